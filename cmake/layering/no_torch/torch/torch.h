// Layering guard (docs/ARCHITECTURE.md, "Layering"): this library did not declare
// `USES TORCH` in its dogsearch_library(), so it may not include LibTorch,
// directly or through a header it includes. Keep the LibTorch code in a library that declares it.
#error \
    "dogsearch layering: a light library includes a LibTorch header (see docs/ARCHITECTURE.md, Layering)"
