// Layering guard (docs/ARCHITECTURE.md, "Layering"): this library did not declare `USES GRPC`
// in its dogsearch_library(), so it may not include gRPC or generated service stubs, directly
// or through a header it includes. Cores use protobuf messages at most; the gRPC adapters
// (services, clients) declare the use.
#error \
    "dogsearch layering: a core library includes a gRPC header (see docs/ARCHITECTURE.md, Layering)"
