from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
METRIC_COSINE: Metric
METRIC_INNER_PRODUCT: Metric
METRIC_L2: Metric
METRIC_UNSPECIFIED: Metric
SYNC_POLICY_ALWAYS: SyncPolicy
SYNC_POLICY_INTERVAL: SyncPolicy
SYNC_POLICY_NONE: SyncPolicy
SYNC_POLICY_UNSPECIFIED: SyncPolicy
VECTOR_ENCODING_FLOAT16: VectorEncoding
VECTOR_ENCODING_FLOAT32: VectorEncoding
VECTOR_ENCODING_INT8: VectorEncoding
VECTOR_ENCODING_UNSPECIFIED: VectorEncoding

class AliasInfo(_message.Message):
    __slots__ = ["alias", "collection"]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    alias: str
    collection: str
    def __init__(self, alias: _Optional[str] = ..., collection: _Optional[str] = ...) -> None: ...

class BatchSearchRequest(_message.Message):
    __slots__ = ["collection", "model_version", "queries"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    QUERIES_FIELD_NUMBER: _ClassVar[int]
    collection: str
    model_version: str
    queries: _containers.RepeatedCompositeFieldContainer[VectorSearchRequest]
    def __init__(self, collection: _Optional[str] = ..., queries: _Optional[_Iterable[_Union[VectorSearchRequest, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class BatchSearchResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[VectorSearchResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[VectorSearchResponse, _Mapping]]] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ["aliases", "created_unix_seconds", "dimension", "hnsw", "max_records", "metric", "model_version", "name", "record_count", "sync_interval_ms", "sync_policy", "vector_encoding"]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATED_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    HNSW_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    SYNC_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    SYNC_POLICY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_ENCODING_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    created_unix_seconds: int
    dimension: int
    hnsw: HnswParams
    max_records: int
    metric: Metric
    model_version: str
    name: str
    record_count: int
    sync_interval_ms: int
    sync_policy: SyncPolicy
    vector_encoding: VectorEncoding
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., model_version: _Optional[str] = ..., hnsw: _Optional[_Union[HnswParams, _Mapping]] = ..., sync_policy: _Optional[_Union[SyncPolicy, str]] = ..., sync_interval_ms: _Optional[int] = ..., max_records: _Optional[int] = ..., record_count: _Optional[int] = ..., aliases: _Optional[_Iterable[str]] = ..., created_unix_seconds: _Optional[int] = ..., vector_encoding: _Optional[_Union[VectorEncoding, str]] = ...) -> None: ...

class CollectionStats(_message.Message):
    __slots__ = ["capacity", "collection", "deleted_slots", "last_sequence", "memory_bytes", "record_count", "snapshot_sequence", "snapshot_unix_seconds", "wal_bytes"]
    CAPACITY_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    DELETED_SLOTS_FIELD_NUMBER: _ClassVar[int]
    LAST_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_BYTES_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_UNIX_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WAL_BYTES_FIELD_NUMBER: _ClassVar[int]
    capacity: int
    collection: str
    deleted_slots: int
    last_sequence: int
    memory_bytes: int
    record_count: int
    snapshot_sequence: int
    snapshot_unix_seconds: int
    wal_bytes: int
    def __init__(self, collection: _Optional[str] = ..., record_count: _Optional[int] = ..., deleted_slots: _Optional[int] = ..., capacity: _Optional[int] = ..., memory_bytes: _Optional[int] = ..., wal_bytes: _Optional[int] = ..., last_sequence: _Optional[int] = ..., snapshot_sequence: _Optional[int] = ..., snapshot_unix_seconds: _Optional[int] = ...) -> None: ...

class CreateCollectionRequest(_message.Message):
    __slots__ = ["dimension", "hnsw", "initial_capacity", "max_records", "metric", "model_version", "name", "sync_interval_ms", "sync_policy", "vector_encoding"]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    HNSW_FIELD_NUMBER: _ClassVar[int]
    INITIAL_CAPACITY_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SYNC_INTERVAL_MS_FIELD_NUMBER: _ClassVar[int]
    SYNC_POLICY_FIELD_NUMBER: _ClassVar[int]
    VECTOR_ENCODING_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    hnsw: HnswParams
    initial_capacity: int
    max_records: int
    metric: Metric
    model_version: str
    name: str
    sync_interval_ms: int
    sync_policy: SyncPolicy
    vector_encoding: VectorEncoding
    def __init__(self, name: _Optional[str] = ..., dimension: _Optional[int] = ..., metric: _Optional[_Union[Metric, str]] = ..., model_version: _Optional[str] = ..., hnsw: _Optional[_Union[HnswParams, _Mapping]] = ..., initial_capacity: _Optional[int] = ..., max_records: _Optional[int] = ..., sync_policy: _Optional[_Union[SyncPolicy, str]] = ..., sync_interval_ms: _Optional[int] = ..., vector_encoding: _Optional[_Union[VectorEncoding, str]] = ...) -> None: ...

class DeleteAliasRequest(_message.Message):
    __slots__ = ["alias"]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    alias: str
    def __init__(self, alias: _Optional[str] = ...) -> None: ...

class DeleteAliasResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ["collection", "ids"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ["deleted", "not_found", "sequence"]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    NOT_FOUND_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    not_found: int
    sequence: int
    def __init__(self, deleted: _Optional[int] = ..., not_found: _Optional[int] = ..., sequence: _Optional[int] = ...) -> None: ...

class DogFilter(_message.Message):
    __slots__ = ["exclude_dog_ids", "include_dog_ids"]
    EXCLUDE_DOG_IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DOG_IDS_FIELD_NUMBER: _ClassVar[int]
    exclude_dog_ids: _containers.RepeatedScalarFieldContainer[str]
    include_dog_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, include_dog_ids: _Optional[_Iterable[str]] = ..., exclude_dog_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DropCollectionRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DropCollectionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetCollectionRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetRequest(_message.Message):
    __slots__ = ["collection", "ids", "include_vectors"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    IDS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ids: _containers.RepeatedScalarFieldContainer[str]
    include_vectors: bool
    def __init__(self, collection: _Optional[str] = ..., ids: _Optional[_Iterable[str]] = ..., include_vectors: bool = ...) -> None: ...

class GetResponse(_message.Message):
    __slots__ = ["missing_ids", "records"]
    MISSING_IDS_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    missing_ids: _containers.RepeatedScalarFieldContainer[str]
    records: _containers.RepeatedCompositeFieldContainer[Record]
    def __init__(self, records: _Optional[_Iterable[_Union[Record, _Mapping]]] = ..., missing_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ["collection"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class HnswParams(_message.Message):
    __slots__ = ["ef_construction", "ef_search", "m"]
    EF_CONSTRUCTION_FIELD_NUMBER: _ClassVar[int]
    EF_SEARCH_FIELD_NUMBER: _ClassVar[int]
    M_FIELD_NUMBER: _ClassVar[int]
    ef_construction: int
    ef_search: int
    m: int
    def __init__(self, m: _Optional[int] = ..., ef_construction: _Optional[int] = ..., ef_search: _Optional[int] = ...) -> None: ...

class ListAliasesRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListAliasesResponse(_message.Message):
    __slots__ = ["aliases"]
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[AliasInfo]
    def __init__(self, aliases: _Optional[_Iterable[_Union[AliasInfo, _Mapping]]] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ["collections"]
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionInfo]
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionInfo, _Mapping]]] = ...) -> None: ...

class ListRecordIdsRequest(_message.Message):
    __slots__ = ["collection", "page_size", "page_token"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    collection: str
    page_size: int
    page_token: str
    def __init__(self, collection: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRecordIdsResponse(_message.Message):
    __slots__ = ["ids", "next_page_token"]
    IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ids: _containers.RepeatedScalarFieldContainer[str]
    next_page_token: str
    def __init__(self, ids: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Payload(_message.Message):
    __slots__ = ["attributes", "dog_id", "photo_id"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    DOG_ID_FIELD_NUMBER: _ClassVar[int]
    PHOTO_ID_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    dog_id: str
    photo_id: str
    def __init__(self, dog_id: _Optional[str] = ..., photo_id: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class Record(_message.Message):
    __slots__ = ["id", "payload", "vector"]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    id: str
    payload: Payload
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, id: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ...) -> None: ...

class SetAliasRequest(_message.Message):
    __slots__ = ["alias", "collection", "expected_collection"]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_COLLECTION_FIELD_NUMBER: _ClassVar[int]
    alias: str
    collection: str
    expected_collection: str
    def __init__(self, alias: _Optional[str] = ..., collection: _Optional[str] = ..., expected_collection: _Optional[str] = ...) -> None: ...

class SnapshotRequest(_message.Message):
    __slots__ = ["collection"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    def __init__(self, collection: _Optional[str] = ...) -> None: ...

class SnapshotResponse(_message.Message):
    __slots__ = ["bytes", "seconds", "sequence"]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    bytes: int
    seconds: float
    sequence: int
    def __init__(self, sequence: _Optional[int] = ..., bytes: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class UpsertRequest(_message.Message):
    __slots__ = ["collection", "model_version", "records"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    collection: str
    model_version: str
    records: _containers.RepeatedCompositeFieldContainer[Record]
    def __init__(self, collection: _Optional[str] = ..., records: _Optional[_Iterable[_Union[Record, _Mapping]]] = ..., model_version: _Optional[str] = ...) -> None: ...

class UpsertResponse(_message.Message):
    __slots__ = ["inserted", "replaced", "sequence"]
    INSERTED_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    inserted: int
    replaced: int
    sequence: int
    def __init__(self, inserted: _Optional[int] = ..., replaced: _Optional[int] = ..., sequence: _Optional[int] = ...) -> None: ...

class VectorSearchHit(_message.Message):
    __slots__ = ["distance", "id", "payload", "vector"]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    distance: float
    id: str
    payload: Payload
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, id: _Optional[str] = ..., distance: _Optional[float] = ..., payload: _Optional[_Union[Payload, _Mapping]] = ..., vector: _Optional[_Iterable[float]] = ...) -> None: ...

class VectorSearchRequest(_message.Message):
    __slots__ = ["collection", "ef", "filter", "include_vectors", "k", "model_version", "vector"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    EF_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    collection: str
    ef: int
    filter: DogFilter
    include_vectors: bool
    k: int
    model_version: str
    vector: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, collection: _Optional[str] = ..., vector: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., ef: _Optional[int] = ..., filter: _Optional[_Union[DogFilter, _Mapping]] = ..., model_version: _Optional[str] = ..., include_vectors: bool = ...) -> None: ...

class VectorSearchResponse(_message.Message):
    __slots__ = ["collection", "hits", "model_version"]
    COLLECTION_FIELD_NUMBER: _ClassVar[int]
    HITS_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    collection: str
    hits: _containers.RepeatedCompositeFieldContainer[VectorSearchHit]
    model_version: str
    def __init__(self, hits: _Optional[_Iterable[_Union[VectorSearchHit, _Mapping]]] = ..., collection: _Optional[str] = ..., model_version: _Optional[str] = ...) -> None: ...

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class SyncPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class VectorEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
