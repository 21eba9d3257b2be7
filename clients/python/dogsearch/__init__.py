"""dogsearch: find a dog by a photo of its face. A typed client for the DogSearch and Trainer
gRPC APIs; the generated messages are in dogsearch.v1."""

from dogsearch.client import Client, ImportSummary, answer_name, to_photo
from dogsearch.errors import (
    Aborted,
    AlreadyExists,
    DeadlineExceeded,
    DogSearchError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)

__all__ = [
    "Client", "ImportSummary", "answer_name", "to_photo", "DogSearchError", "InvalidArgument",
    "NotFound", "AlreadyExists", "Unauthenticated", "PermissionDenied", "FailedPrecondition",
    "ResourceExhausted", "Unavailable", "DeadlineExceeded", "Aborted",
]
__version__ = "0.1.0"
