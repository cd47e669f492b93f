"""Remote registries (`docker://HOST/REPO[:TAG|@DIGEST]`) over the distribution API with httpx.

Auth follows the registry's 401 challenge: Basic with the given credentials, or a Bearer
token fetched from the challenge's realm (anonymously or with Basic credentials). Blobs are
streamed and their digest verified at end of stream, since the network is not trusted.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
from collections.abc import Iterator
from typing import BinaryIO

import httpx

from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.sources.layout import check_digest
from tidegate.scanner.sources.manifest import ACCEPT, digest_of

_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class _VerifyingStream(io.RawIOBase):
    """Streams an HTTP body, failing the scan when it does not hash to the digest."""

    def __init__(self, response: httpx.Response, digest: str) -> None:
        self._response = response
        self._chunks: Iterator[bytes] = response.iter_raw(1 << 20)
        self._buf = b""
        self._hash = hashlib.sha256()
        self._digest = digest
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._done:
            try:
                self._buf = next(self._chunks)
            except StopIteration:
                self._done = True
                if "sha256:" + self._hash.hexdigest() != self._digest:
                    msg = f"blob {self._digest} does not match its digest"
                    raise ScanFailed(msg) from None
            except httpx.HTTPError as exc:
                msg = f"download of {self._digest} failed: {exc}"
                raise ScanFailed(msg) from exc
            self._hash.update(self._buf)
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._response.close()
        super().close()


class RemoteSource:
    """An image in a remote registry; `insecure` uses plain HTTP (skopeo's --tls-verify=false)."""

    def __init__(
        self,
        host: str,
        repository: str,
        reference: str,
        *,
        username: str = "",
        password: str = "",
        insecure: bool = False,
        timeout: float = 60.0,
    ) -> None:
        self.host = host
        self.repository = repository
        self.ref = reference
        sep = "@" if reference.startswith("sha256:") else ":"
        self.reference = f"docker://{host}/{repository}{sep}{reference}"
        self._auth = (username, password) if username else None
        self._base = f"{'http' if insecure else 'https'}://{host}/v2/{repository}"
        self._client = httpx.Client(timeout=timeout, follow_redirects=True)
        self._authorization = ""

    def close(self) -> None:
        self._client.close()

    def _request(self, path: str, accept: str = "", *, stream: bool = False) -> httpx.Response:
        for attempt in range(2):
            headers = {"Accept": accept} if accept else {}
            if self._authorization:
                headers["Authorization"] = self._authorization
            try:
                request = self._client.build_request("GET", self._base + path, headers=headers)
                response = self._client.send(request, stream=stream)
            except httpx.HTTPError as exc:
                msg = f"cannot reach {self.host}: {exc}"
                raise ScanFailed(msg) from exc
            if response.status_code == 401 and attempt == 0:
                challenge = response.headers.get("www-authenticate", "")
                response.close()
                self._authorize(challenge)
                continue
            if response.status_code != 200:
                response.close()
                msg = f"{self.reference}: GET {path} returned HTTP {response.status_code}"
                raise ScanFailed(msg)
            return response
        msg = f"{self.reference}: access denied"
        raise ScanFailed(msg)

    def _authorize(self, challenge: str) -> None:
        scheme, _, rest = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self._auth is None:
                raise ScanFailed(f"{self.reference}: registry needs credentials")
            user, password = self._auth
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            self._authorization = f"Basic {pair}"
            return
        if scheme.lower() != "bearer":
            msg = f"{self.reference}: unsupported auth challenge {challenge!r}"
            raise ScanFailed(msg)
        params = dict(_CHALLENGE_PARAM.findall(rest))
        realm = params.pop("realm", "")
        if not realm:
            raise ScanFailed(f"{self.reference}: bearer challenge without realm")
        params.setdefault("scope", f"repository:{self.repository}:pull")
        try:
            resp = self._client.get(
                realm, params=params, auth=self._auth or httpx.USE_CLIENT_DEFAULT
            )
            body = resp.json() if resp.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as exc:
            msg = f"{self.reference}: token request failed: {exc}"
            raise ScanFailed(msg) from exc
        token = body.get("token") or body.get("access_token")
        if not token:
            msg = f"{self.reference}: token endpoint returned HTTP {resp.status_code}"
            raise ScanFailed(msg)
        self._authorization = f"Bearer {token}"

    def _get_manifest(self, ref: str) -> bytes:
        response = self._request(f"/manifests/{ref}", ACCEPT)
        data = response.content
        if ref.startswith("sha256:") and digest_of(data) != ref:
            msg = f"manifest {ref} does not match its digest"
            raise ScanFailed(msg)
        return data

    def root(self) -> bytes:
        return self._get_manifest(self.ref)

    def manifest(self, digest: str) -> bytes:
        return self._get_manifest(check_digest(digest))

    def open_blob(self, digest: str) -> BinaryIO:
        response = self._request(f"/blobs/{check_digest(digest)}", stream=True)
        return io.BufferedReader(_VerifyingStream(response, digest), 1 << 20)
