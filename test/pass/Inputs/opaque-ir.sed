# Typed IR needs a constant GEP to element 0 to turn [N x i8]* into i8*, and
# LLVM 14 does not fold a GEP to field 0 of a struct; both are the address of
# the global itself, which is how later versions print them.
s/getelementptr inbounds \((\[[0-9]+ x i8\]|\{ [^}]* \}), ptr (@[-A-Za-z0-9_.$]+), i(32|64) 0, i(32|64) 0\)/\2/g
