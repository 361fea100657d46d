"""A client of the OCI Distribution API (Docker Registry HTTP API v2) that reads the digest of a tag.

Standard library only (urllib): one HEAD request a tag, as `docker buildx imagetools inspect` and
`crane digest` do. What it follows, from the specifications:

- OCI distribution-spec v1.1 "Checking if content exists in the registry": `HEAD /v2/<name>/manifests/<reference>`
  answers 200 with the manifest's `Docker-Content-Digest` (a registry SHOULD send it), 404 when the
  tag or repository is unknown. The Accept header lists what we take, best first: the OCI image index,
  Docker's manifest list (a multi-platform image: the runtime picks its platform from it, so it is
  what a reference should pin), then the single-platform OCI and Docker v2 manifests. Without the
  header, the digest is the sha256 of the manifest's bytes as served (`GET`), which is how
  `Docker-Content-Digest` is defined (distribution "Content Digests").
- Token authentication (distribution docs `spec/auth/token.md`): a 401 carries
  `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`; the client GETs
  `realm?service=...&scope=...` (with Basic credentials when it has some, anonymously otherwise) and
  retries with `Authorization: Bearer <token>` (`token`, or `access_token`, of the JSON answer).
  `WWW-Authenticate: Basic realm="..."` (an htpasswd-protected registry) takes the credentials directly.

Credentials come from the environment (`MILVUS_ZONES_REGISTRY_USERNAME`, `MILVUS_ZONES_REGISTRY_PASSWORD`),
never from a stack file. Every failure is a RegistryError with one line that says what to do.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import Message
from typing import Any

DOCKER_HUB_API = "https://registry-1.docker.io"  # Docker Hub's registry endpoint (docker.io is its name)
USERNAME_ENV = "MILVUS_ZONES_REGISTRY_USERNAME"
PASSWORD_ENV = "MILVUS_ZONES_REGISTRY_PASSWORD"

INDEX_TYPES = ("application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json")
MANIFEST_TYPES = ("application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json")
ACCEPT = ", ".join((*INDEX_TYPES, *MANIFEST_TYPES))
MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # distribution's own limit on a manifest it accepts
TIMEOUT_S = 30.0
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(Exception):
    """The registry could not give a digest: one line, naming the image and what to do."""


@dataclass(frozen=True)
class Resolved:
    """What the registry answered for a tag."""

    digest: str
    media_type: str  # the manifest's Content-Type

    @property
    def kind(self) -> str:
        return "index" if self.media_type in INDEX_TYPES else "manifest"


@dataclass(frozen=True)
class Registry:
    """A registry endpoint and the path under it that holds Docker Hub's repositories."""

    base: str  # scheme://host[:port]
    prefix: str = ""  # path under the registry, e.g. "mirror" for acme...aliyuncs.com/mirror
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str | None, env: dict[str, str] | None = None) -> Registry:
        """`https://host[:port][/path]`, `http://...` (a registry without TLS, explicitly), or
        `host[:port][/path]` as `imageRegistry` writes it (HTTPS); None: Docker Hub."""
        env = dict(os.environ if env is None else env)
        user, password = env.get(USERNAME_ENV) or None, env.get(PASSWORD_ENV) or None
        if (user is None) != (password is None):
            raise RegistryError(f"set both {USERNAME_ENV} and {PASSWORD_ENV}, or neither")
        if url is None:
            return cls(DOCKER_HUB_API, "", user, password)
        text = url if "://" in url else f"https://{url}"
        parts = urllib.parse.urlsplit(text)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise RegistryError(f"{url!r} is not a registry: allowed host[:port][/path], https://... or http://...")
        base = f"{parts.scheme}://{parts.netloc}"
        if base in ("https://docker.io", "https://index.docker.io"):
            base = DOCKER_HUB_API  # docker.io names Docker Hub; its API lives on registry-1.docker.io
        return cls(base, parts.path.strip("/"), user, password)

    def name(self, repository: str) -> str:
        """The repository's name in this registry's API (`<prefix>/<repository>`)."""
        return f"{self.prefix}/{repository}" if self.prefix else repository

    def resolve(self, repository: str, tag: str) -> Resolved:
        """The digest `repository:tag` has in this registry (a RegistryError when it cannot tell)."""
        name = self.name(repository)
        url = f"{self.base}/v2/{name}/manifests/{urllib.parse.quote(tag, safe='')}"
        what = f"{self.base.split('://', 1)[1]}/{name}:{tag}"
        _, headers = self._request(url, "HEAD", what)
        digest = headers.get("Docker-Content-Digest")
        media_type = (headers.get("Content-Type") or "").split(";")[0].strip()
        if digest is None:
            body, headers = self._request(url, "GET", what)
            media_type = (headers.get("Content-Type") or media_type).split(";")[0].strip()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        if not _DIGEST_RE.match(digest):
            raise RegistryError(f"{what}: the registry answered digest {digest[:80]!r}, not sha256:<64 hex>")
        return Resolved(digest, media_type)

    # ---- HTTP --------------------------------------------------------------------------------------

    def _request(self, url: str, method: str, what: str) -> tuple[bytes, Message]:
        auth: str | None = None
        for _ in range(2):  # once anonymously, once with what the challenge asks for
            try:
                return self._send(url, method, auth)
            except urllib.error.HTTPError as e:
                if e.code != 401 or auth is not None:
                    raise RegistryError(self._refused(e, what)) from None
                auth = self._authorization(e.headers.get("WWW-Authenticate") or "", what)
        raise AssertionError("unreachable")

    def _send(self, url: str, method: str, auth: str | None) -> tuple[bytes, Message]:
        request = urllib.request.Request(url, method=method, headers={"Accept": ACCEPT})
        if auth is not None:
            request.add_unredirected_header("Authorization", auth)  # never sent on to a redirect's host
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                body = response.read(MAX_MANIFEST_BYTES + 1) if method == "GET" else b""
                if len(body) > MAX_MANIFEST_BYTES:
                    raise RegistryError(f"{url}: a manifest of more than {MAX_MANIFEST_BYTES} bytes; not read")
                return body, response.headers
        except urllib.error.HTTPError:
            raise
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise RegistryError(f"cannot reach the registry {self.base} ({reason}); check the address, or "
                                "pass --registry") from None

    def _authorization(self, challenge: str, what: str) -> str:
        scheme = challenge.split(" ", 1)[0].lower()
        params = dict(_CHALLENGE_PARAM.findall(challenge))
        if scheme == "basic":
            if self.username is None or self.password is None:
                raise RegistryError(f"{what}: the registry asks for a user name and password (Basic); set "
                                    f"{USERNAME_ENV} and {PASSWORD_ENV}")
            return self._basic()
        if scheme == "bearer" and params.get("realm"):
            return f"Bearer {self._token(params, what)}"
        raise RegistryError(f"{what}: the registry answered 401 with an authentication scheme this client does "
                            f"not speak ({challenge[:80]!r}); allowed: Bearer, Basic")

    def _basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()

    def _token(self, params: dict[str, str], what: str) -> str:
        query: dict[str, str] = {k: params[k] for k in ("service", "scope") if k in params}
        realm = params["realm"]
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme != "https" and not (parts.scheme == "http" and self.base.startswith("http://")):
            raise RegistryError(f"{what}: the token realm {realm!r} is not HTTPS; not asked")
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.username is not None:
            request.add_unredirected_header("Authorization", self._basic())
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                answer: Any = json.loads(response.read(1024 * 1024))
        except urllib.error.HTTPError as e:
            who = "with the credentials of " + USERNAME_ENV if self.username else "anonymously"
            raise RegistryError(f"{what}: the token service {parts.netloc} refused a pull token {who} "
                                f"(HTTP {e.code}); set {USERNAME_ENV} and {PASSWORD_ENV} to an account that "
                                "may pull it") from None
        except (urllib.error.URLError, OSError) as e:
            raise RegistryError(f"cannot reach the token service {parts.netloc} ({getattr(e, 'reason', e)})") from None
        except ValueError:
            raise RegistryError(f"{what}: the token service {parts.netloc} answered no JSON") from None
        token = answer.get("token") or answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{what}: the token service {parts.netloc} answered no token")
        return token

    def _refused(self, e: urllib.error.HTTPError, what: str) -> str:
        if e.code == 404:
            return f"{what}: no such tag or repository in the registry (HTTP 404); copy the image there first"
        if e.code in (401, 403):
            return (f"{what}: the registry refused the credentials (HTTP {e.code}); check {USERNAME_ENV} and "
                    f"{PASSWORD_ENV}" if self.username else
                    f"{what}: the registry refused an anonymous pull (HTTP {e.code}); set {USERNAME_ENV} and "
                    f"{PASSWORD_ENV}")
        if e.code == 429:
            return f"{what}: the registry's rate limit was reached (HTTP 429); try again later or log in"
        return f"{what}: the registry answered HTTP {e.code} {e.reason}"
