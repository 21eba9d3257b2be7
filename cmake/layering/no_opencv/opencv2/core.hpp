// Layering guard (docs/ARCHITECTURE.md, "Layering"): this library did not declare
// `USES OPENCV` in its dogsearch_library(), so it may not include OpenCV,
// directly or through a header it includes. Keep the OpenCV code in a library that declares it.
#error "dogsearch layering: a light library includes a OpenCV header (see docs/ARCHITECTURE.md, Layering)"
