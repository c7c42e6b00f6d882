// shapes: a shared library (C++) that allocates on behalf of its callers.
#ifndef SHAPES_H
#define SHAPES_H
struct Shape {
  int sides;
  double size;
  double *corners; // sides * 2 coordinates
};
Shape *make_shape(int sides, double size);
double shape_area(const Shape &shape);
void destroy_shape(Shape *shape);
#endif
