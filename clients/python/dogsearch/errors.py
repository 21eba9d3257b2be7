"""Errors raised by the dogsearch client: one exception type per gRPC status code that the API
documents, all subclasses of DogSearchError, each carrying the code and the server's message."""

from __future__ import annotations

from typing import Dict, Type

import grpc


class DogSearchError(Exception):
    """A call failed. ``code`` is the gRPC status code, ``message`` the server's explanation."""

    def __init__(self, code: grpc.StatusCode, message: str, method: str = "") -> None:
        self.code = code
        self.message = message
        self.method = method
        where = f"{method}: " if method else ""
        super().__init__(f"{where}{code.name}: {message}")


class InvalidArgument(DogSearchError):
    """The request is malformed: a bad photo, an unknown field value, a limit exceeded."""


class NotFound(DogSearchError):
    """No such dog, photo, job, checkpoint or model version."""


class AlreadyExists(DogSearchError):
    """The dog or photo is already enrolled, or the model is already serving."""


class Unauthenticated(DogSearchError):
    """The call needs a bearer token (``token=``), or the token is wrong."""


class PermissionDenied(DogSearchError):
    """The server refuses this caller."""


class FailedPrecondition(DogSearchError):
    """The server is not in a state to do it now (no model serving yet, ...)."""


class ResourceExhausted(DogSearchError):
    """A queue is full or a message is too large; retry later or send less."""


class Unavailable(DogSearchError):
    """The server (or a backend behind it) cannot be reached right now; safe calls are retried."""


class DeadlineExceeded(DogSearchError):
    """The call took longer than its timeout."""


class Aborted(DogSearchError):
    """Another operation got in the way (an upgrade is already running); retry later."""


_BY_CODE: Dict[grpc.StatusCode, Type[DogSearchError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.OUT_OF_RANGE: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.ABORTED: Aborted,
}


def from_rpc_error(error: grpc.RpcError, method: str = "") -> DogSearchError:
    """The DogSearchError subclass for a failed call."""
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = error.details() if hasattr(error, "details") else str(error)
    return _BY_CODE.get(code, DogSearchError)(code, details or "", method)
