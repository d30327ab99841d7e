"""The providers' batch APIs on the wire: OpenAI's `/v1/files` + `/v1/batches`, Anthropic's `/v1/messages/batches`.

A batch carries each request exactly as the live endpoint takes it (the body a live call POSTs) and gives back, per
request, the HTTP status and body the live endpoint would have answered, so the live client parses it unchanged.
Every call goes to the live call's own base URL with the live call's own headers (its key, Anthropic's version
header): a key reaches only the provider it belongs to. These formats are verified against the loopback servers of
`strawberry_dspy.testing`, which implement the endpoints as the providers document them, not against the services.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

CALL_TIMEOUT_S = 300.0  # one batch API call (an upload of a large file included), not the batch's own run time
_DROPPED_HEADERS = {"content-type", "content-length", "host", "accept-encoding", "connection"}
# Anthropic's error types and the HTTP status its live endpoint answers them with
_ANTHROPIC_STATUS = {"invalid_request_error": 400, "authentication_error": 401, "billing_error": 402,
                     "permission_error": 403, "not_found_error": 404, "request_too_large": 413,
                     "rate_limit_error": 429, "api_error": 500, "timeout_error": 504, "overloaded_error": 529}


class BatchAPIError(Exception):
    """A batch API call failed: `status` is its HTTP status, None when no reply came."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later (no reply, 429, 5xx)."""
        return transient_status(self.status)


def transient_status(status: int | None) -> bool:
    """Whether a call answered with this HTTP status (None: no reply) may succeed if made again: 429 and 5xx
    (Anthropic's overloaded 529 among them)."""
    return status is None or status == 429 or status >= 500


@dataclass(frozen=True)
class Answer:
    """One request's outcome as the live endpoint would have answered it."""

    status: int
    body: bytes


@dataclass(frozen=True)
class BatchState:
    """A batch as its last poll saw it: ended or not, requests done of total, and the provider's object."""

    id: str
    ended: bool
    done: int
    total: int
    body: dict


class BatchAPI:
    """The calls one provider's batch API takes, at the live call's base URL, with its headers."""

    endpoint = ""  # the live endpoint under the base URL that this API batches
    listing = ""  # the batch API's list of batches under the base URL, the newest first

    def __init__(self, base_url: str, headers: list[tuple[str, str]]):
        self.base = base_url.rstrip("/")
        self.headers = {name: value for name, value in headers if name.lower() not in _DROPPED_HEADERS}

    def _call(self, method: str, path: str, body: bytes | None = None,
              content_type: str = "application/json") -> bytes:
        url = self.base + path
        headers = {**self.headers, **({"Content-Type": content_type} if body is not None else {})}
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=CALL_TIMEOUT_S) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            detail = error.read()[:300].decode("utf-8", "replace")
            raise BatchAPIError(f"{method} {url}: HTTP {error.code} {detail}", error.code) from None
        except (urllib.error.URLError, OSError) as error:
            raise BatchAPIError(f"{method} {url}: {getattr(error, 'reason', error)}") from None

    def _json(self, method: str, path: str, payload: dict | None = None) -> dict:
        body = None if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        return json.loads(self._call(method, path, body))

    def check(self) -> None:
        """One cheap authenticated call, the newest batch of the list: raises BatchAPIError for a key the provider
        refuses (401, 403) or a server without this batch API (404), as a submission would."""
        self._call("GET", f"{self.listing}?limit=1")

    def submit(self, requests: list[tuple[str, dict]]) -> str:  # pragma: no cover - abstract
        """Send (custom id, live request body) pairs as one batch; the batch's id."""
        raise NotImplementedError

    def status(self, batch_id: str) -> BatchState:  # pragma: no cover - abstract
        """Poll one batch."""
        raise NotImplementedError

    def results(self, state: BatchState) -> dict[str, Answer]:  # pragma: no cover - abstract
        """The answers of an ended batch by custom id; a request it never ran (expired, cancelled) is missing."""
        raise NotImplementedError


class OpenAIBatches(BatchAPI):
    """OpenAI: the requests as a JSONL file (`POST /files`, purpose batch), then `POST /batches` naming it."""

    endpoint = "/chat/completions"
    listing = "/batches"
    url = "/v1/chat/completions"  # how a batch line and the batch name the live endpoint
    ENDED = ("completed", "failed", "expired", "cancelled")

    def submit(self, requests: list[tuple[str, dict]]) -> str:
        lines = "".join(json.dumps({"custom_id": custom_id, "method": "POST", "url": self.url, "body": body},
                                   ensure_ascii=False) + "\n" for custom_id, body in requests)
        content_type, form = _multipart({"purpose": "batch"}, ("file", "batch.jsonl", lines.encode()))
        upload = json.loads(self._call("POST", "/files", form, content_type))
        batch = self._json("POST", "/batches", {"input_file_id": upload["id"], "endpoint": self.url,
                                                "completion_window": "24h"})
        return batch["id"]

    def status(self, batch_id: str) -> BatchState:
        body = self._json("GET", f"/batches/{batch_id}")
        counts = body.get("request_counts") or {}
        done = int(counts.get("completed") or 0) + int(counts.get("failed") or 0)
        return BatchState(batch_id, body.get("status") in self.ENDED, done, int(counts.get("total") or 0), body)

    def results(self, state: BatchState) -> dict[str, Answer]:
        answers: dict[str, Answer] = {}
        for name in ("output_file_id", "error_file_id"):
            if not state.body.get(name):
                continue
            for line in self._call("GET", f"/files/{state.body[name]}/content").decode("utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    response = item.get("response") or {}
                    body = response.get("body") or {"error": item.get("error") or {"message": "no reply"}}
                    answers[item["custom_id"]] = Answer(int(response.get("status_code") or 500),
                                                        json.dumps(body).encode())
        return answers


class AnthropicBatches(BatchAPI):
    """Anthropic: `POST /messages/batches` with every request's params; results as JSONL once it has ended."""

    endpoint = "/messages"
    listing = "/messages/batches"

    def submit(self, requests: list[tuple[str, dict]]) -> str:
        batch = self._json("POST", "/messages/batches",
                           {"requests": [{"custom_id": custom_id, "params": body} for custom_id, body in requests]})
        return batch["id"]

    def status(self, batch_id: str) -> BatchState:
        body = self._json("GET", f"/messages/batches/{batch_id}")
        counts = {key: int(value or 0) for key, value in (body.get("request_counts") or {}).items()}
        total = sum(counts.values())
        return BatchState(batch_id, body.get("processing_status") == "ended", total - counts.get("processing", 0),
                          total, body)

    def results(self, state: BatchState) -> dict[str, Answer]:
        # the documented path under the configured base URL, not the body's absolute results_url: the key stays
        # with the host it was configured for
        text = self._call("GET", f"/messages/batches/{state.id}/results").decode("utf-8")
        answers: dict[str, Answer] = {}
        for line in filter(str.strip, text.splitlines()):
            item = json.loads(line)
            result = item.get("result") or {}
            if result.get("type") == "succeeded":
                answers[item["custom_id"]] = Answer(200, json.dumps(result["message"]).encode())
            elif result.get("type") == "errored":
                error = result.get("error") or {}
                status = _ANTHROPIC_STATUS.get((error.get("error") or {}).get("type"), 500)
                answers[item["custom_id"]] = Answer(status, json.dumps(error).encode())
        return answers  # canceled and expired requests are missing: they are sent again


APIS = (OpenAIBatches, AnthropicBatches)


def batch_api_for(url: str, headers: list[tuple[str, str]]) -> BatchAPI:
    """The batch API of a live call to `url` (its endpoint decides), at the same base URL with the same headers."""
    for api in APIS:
        if url.rstrip("/").endswith(api.endpoint):
            return api(url.rstrip("/").removesuffix(api.endpoint), headers)
    raise BatchAPIError(f"no batch API batches calls to {url}: batches carry OpenAI chat completions and "
                        "Anthropic messages")


def _multipart(fields: dict[str, str], file: tuple[str, str, bytes]) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data upload of `fields` and one file (name, filename, data)."""
    boundary = uuid.uuid4().hex
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    name, filename, data = file
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                 "Content-Type: application/jsonl\r\n\r\n".encode() + data + b"\r\n")
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()
