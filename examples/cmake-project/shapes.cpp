#include "shapes.h"

Shape *make_shape(int sides, double size) {
  Shape *shape = new Shape;                      // line 4: one per call
  shape->sides = sides;
  shape->size = size;
  shape->corners = new double[sides * 2];        // line 7: one per call
  for (int i = 0; i < sides * 2; ++i)
    shape->corners[i] = size * i;
  return shape;
}

double shape_area(const Shape &shape) {
  return shape.size * shape.size * shape.sides / 4.0;
}

void destroy_shape(Shape *shape) {
  delete[] shape->corners;
  delete shape;
}
