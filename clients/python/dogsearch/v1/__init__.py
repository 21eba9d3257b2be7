"""Generated protobuf and gRPC code for the dogsearch.v1 contracts (tools/gen_clients.sh)."""
