// Bulk-loads a synthetic gallery straight into the gateway's SQLite store (gallery_bench,
// gateway_bench): photo i of dog i / per_dog, in one transaction, through the store's own
// schema (its triggers keep the counts). The store must exist (GalleryStore::Open creates the
// schema) and no gateway may have it open. For benchmarks only: synchronous=OFF.
#ifndef DOGSEARCH_TOOLS_BENCH_GALLERY_BULK_H_
#define DOGSEARCH_TOOLS_BENCH_GALLERY_BULK_H_

#include <cstdint>
#include <functional>
#include <string>

namespace dogsearch::bench {

bool BulkLoadGallery(const std::string& sqlite_path, int64_t photos, int per_dog,
                     const std::function<std::string(int64_t photo)>& photo_id,
                     const std::function<std::string(int64_t dog)>& dog_id);

}  // namespace dogsearch::bench

#endif  // DOGSEARCH_TOOLS_BENCH_GALLERY_BULK_H_
