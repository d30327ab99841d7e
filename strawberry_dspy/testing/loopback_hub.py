"""A real Hugging Face Hub stand-in on 127.0.0.1 (stdlib http.server), for `HF_ENDPOINT`.

It implements the routes `huggingface_hub` (2.x) calls to publish a dataset and `datasets.load_dataset` calls to
read it back (read from their source in site-packages):

- `POST /api/repos/create` (`HfApi.create_repo`; 409 when the repo exists), `POST /api/validate-yaml`;
- `POST /api/datasets/{repo}/preupload/{rev}` (every file "regular": no LFS / Xet),
  `POST /api/datasets/{repo}/commit/{rev}` (the ndjson body: header, base64 `file` lines, deletions);
- `GET /api/datasets/{repo}[/revision/{rev}]` (repo info with siblings), `GET /api/datasets/{repo}/tree/{rev}[/{path}]`,
  `POST /api/datasets/{repo}/paths-info/{rev}`;
- `GET|HEAD /datasets/{repo}/resolve/{rev}/{path}` (with `X-Repo-Commit`, `ETag`, `Content-Length`, ranges).

Repos live in memory: `repos[repo_id]` holds `files` (path -> bytes), `private` and `sha`. Every request is
recorded in `requests` (method, path, Authorization header); anything else answers 404 and is kept in `unknown`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

from strawberry_dspy.testing.serving import ThreadedServer


@dataclass
class Repo:
    private: bool = False
    files: dict[str, bytes] = field(default_factory=dict)
    sha: str = "0" * 40
    commits: int = 0


class LoopbackHub(ThreadedServer):
    """The server in a daemon thread; `url` is the HF_ENDPOINT to give the client."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.unknown: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self._serve(_handler(self))


_REPO = r"(?P<repo>[^/]+/[^/]+)"
_REV = r"(?P<rev>[^/]+)"


def _git_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _handler(hub: LoopbackHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes | dict | list = b"", headers: dict | None = None,
                  head: bool = False) -> None:
            data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if isinstance(body, (dict, list)) else
                             "application/octet-stream")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _not_found(self, head: bool = False) -> None:
            self._send(404, {"error": "Repository not found"}, {"X-Error-Code": "RepoNotFound"}, head=head)

        def do_POST(self) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append(("POST", path, self.headers.get("Authorization")))
            body = self._body()
            if path == "/api/repos/create":
                payload = json.loads(body)
                repo_id = f"{payload['organization']}/{payload['name']}"
                with hub.lock:
                    if repo_id in hub.repos:
                        return self._send(409, {"error": "You already created this dataset repo"})
                    hub.repos[repo_id] = Repo(private=payload.get("visibility") == "private")
                return self._send(200, {"url": f"{hub.url}/datasets/{repo_id}", "name": repo_id})
            if path == "/api/validate-yaml":
                return self._send(200, {})
            if m := re.fullmatch(rf"/api/datasets/{_REPO}/preupload/{_REV}", path):
                if m["repo"] not in hub.repos:
                    return self._not_found()
                files = json.loads(body)["files"]
                return self._send(200, {"files": [{"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                                                  for f in files]})
            if m := re.fullmatch(rf"/api/datasets/{_REPO}/commit/{_REV}", path):
                repo = hub.repos.get(m["repo"])
                if repo is None:
                    return self._not_found()
                with hub.lock:
                    for line in body.splitlines():
                        item = json.loads(line)
                        if item["key"] == "file":
                            repo.files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                        elif item["key"] == "deletedFile":
                            repo.files.pop(item["value"]["path"], None)
                        elif item["key"] != "header":
                            return self._send(400, {"error": f"unsupported commit item {item['key']}"})
                    repo.commits += 1
                    repo.sha = hashlib.sha1(f"{m['repo']}{repo.commits}".encode()).hexdigest()
                return self._send(200, {"commitUrl": f"{hub.url}/datasets/{m['repo']}/commit/{repo.sha}",
                                        "commitOid": repo.sha, "pullRequestUrl": None})
            if m := re.fullmatch(rf"/api/datasets/{_REPO}/paths-info/{_REV}", path):
                repo = hub.repos.get(m["repo"])
                if repo is None:
                    return self._not_found()
                form = parse_qs(body.decode())
                wanted = form.get("paths", [])
                return self._send(200, [e for e in _entries(repo) if e["path"] in wanted])
            hub.unknown.append(("POST", path))
            self._send(404, {"error": f"no route {path}"})

        def do_GET(self, head: bool = False) -> None:
            split = urlsplit(self.path)
            path = unquote(split.path)
            hub.requests.append(("HEAD" if head else "GET", path, self.headers.get("Authorization")))
            if m := re.fullmatch(rf"/api/datasets/{_REPO}(?:/revision/{_REV})?", path):
                repo = hub.repos.get(m["repo"])
                if repo is None:
                    return self._not_found(head)
                return self._send(200, {
                    "id": m["repo"], "_id": m["repo"], "sha": repo.sha, "private": repo.private, "disabled": False,
                    "gated": False, "downloads": 0, "likes": 0, "tags": [], "lastModified": "2026-01-01T00:00:00.000Z",
                    "createdAt": "2026-01-01T00:00:00.000Z", "author": m["repo"].split("/")[0],
                    "siblings": [{"rfilename": p} for p in sorted(repo.files)]}, head=head)
            if m := re.fullmatch(rf"/api/datasets/{_REPO}/tree/{_REV}(?:/(?P<path>.*))?", path):
                repo = hub.repos.get(m["repo"])
                if repo is None:
                    return self._not_found(head)
                prefix = (m["path"] or "").strip("/")
                recursive = parse_qs(split.query).get("recursive", ["false"])[0].lower() == "true"
                entries = [e for e in _entries(repo) if _under(e["path"], prefix, recursive)]
                return self._send(200, entries, head=head)
            if m := re.fullmatch(rf"/datasets/{_REPO}/resolve/{_REV}/(?P<path>.+)", path):
                repo = hub.repos.get(m["repo"])
                if repo is None:
                    return self._not_found(head)
                data = repo.files.get(m["path"])
                if data is None:
                    return self._send(404, {"error": "Entry not found"}, {"X-Error-Code": "EntryNotFound",
                                                                          "X-Repo-Commit": repo.sha}, head=head)
                headers = {"X-Repo-Commit": repo.sha, "ETag": f'"{_git_oid(data)}"', "Accept-Ranges": "bytes"}
                if r := re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "")):
                    start, end = int(r[1]), int(r[2]) if r[2] else len(data) - 1
                    end = min(end, len(data) - 1)
                    headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
                    return self._send(206, data[start:end + 1], headers, head=head)
                return self._send(200, data, headers, head=head)
            hub.unknown.append(("HEAD" if head else "GET", path))
            self._send(404, {"error": f"no route {path}"}, head=head)

        def do_HEAD(self) -> None:
            self.do_GET(head=True)

    return Handler


def _entries(repo: Repo) -> list[dict]:
    """Every file and folder of the repo as the tree / paths-info API lists them."""
    folders = {str(parent) for path in repo.files for parent in _parents(path)}
    return ([{"type": "directory", "path": d, "oid": "0" * 40} for d in sorted(folders)]
            + [{"type": "file", "path": p, "size": len(data), "oid": _git_oid(data)}
               for p, data in sorted(repo.files.items())])


def _parents(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _under(path: str, prefix: str, recursive: bool) -> bool:
    if prefix and not path.startswith(prefix + "/"):
        return False
    rest = path[len(prefix) + 1:] if prefix else path
    return recursive or "/" not in rest
