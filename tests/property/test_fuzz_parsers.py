"""Property-based fuzzing of the parsers of client input, in process: each one answers with a
value or its own typed refusal, never another exception, never a hang (pytest-timeout).

* manifests and indexes: `parse_manifest` → `Manifest` or `ManifestInvalid`;
* the scanner's manifest/config reader: `resolve_targets` → targets or `ScanFailed`;
* the tar walker and decompressors: `analyze_layer` → facts or `ScanFailed`, scratch emptied;
* SigV4 fields, Basic/Bearer headers and registry tokens: a value or the typed refusal.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import json
import tarfile
import zlib
from typing import Any

import pytest
import zstandard
from hypothesis import example, given
from hypothesis import strategies as st

from tests.support.fuzz import JSON_TEXT, JSON_VALUE, fuzz, nested
from tidegate.auth.audit import claimed_key_id
from tidegate.auth.sigv4 import SignatureProblem, check_time, parse_authorization
from tidegate.auth.tokens import TokenIssuer
from tidegate.errors import ManifestInvalid, Unauthorized
from tidegate.oci.manifest import MAX_SIZE, parse_manifest
from tidegate.scanner.image.decompress import open_tar_stream
from tidegate.scanner.image.errors import ScanFailed
from tidegate.scanner.image.layer import analyze_layer
from tidegate.scanner.image.limits import Limits
from tidegate.scanner.image.tarstream import TarReader
from tidegate.scanner.inventory import default_analyzers
from tidegate.scanner.sources.layout import BlobStoreSource
from tidegate.scanner.sources.manifest import resolve_targets

pytestmark = [pytest.mark.property, pytest.mark.timeout(300)]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DIGEST = "sha256:" + "a" * 64
MEDIA = st.sampled_from(
    [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/json",
        "",
    ]
)
SIZES = st.sampled_from([0, 1, MAX_SIZE, MAX_SIZE + 1, 2**64, 2**70, -1, 1.0, True, "1"])
DESCRIPTOR = st.fixed_dictionaries(
    {},
    optional={
        "mediaType": MEDIA | JSON_VALUE,
        "digest": st.sampled_from([DIGEST, "sha256:", "md5:00", "sha512:" + "0" * 128])
        | JSON_VALUE,
        "size": SIZES | JSON_VALUE,
        "platform": st.fixed_dictionaries({}, optional={"os": JSON_VALUE, "variant": JSON_VALUE})
        | JSON_VALUE,
        "annotations": st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=2) | JSON_VALUE,
    },
)
MANIFEST_DOC = st.fixed_dictionaries(
    {},
    optional={
        "schemaVersion": st.just(2) | JSON_VALUE,
        "mediaType": MEDIA | JSON_VALUE,
        "config": DESCRIPTOR | JSON_VALUE,
        "layers": st.lists(DESCRIPTOR | JSON_VALUE, max_size=3) | JSON_VALUE,
        "manifests": st.lists(DESCRIPTOR | JSON_VALUE, max_size=3) | JSON_VALUE,
        "subject": DESCRIPTOR | JSON_VALUE,
        "artifactType": JSON_VALUE,
        "annotations": JSON_VALUE,
    },
)


@fuzz(400)
@given(
    body=MANIFEST_DOC.map(lambda d: json.dumps(d).encode())
    | JSON_TEXT.map(str.encode)
    | st.binary(max_size=64),
    content_type=MEDIA | st.text(max_size=30),
)
@example(body=nested(100_000).encode(), content_type=OCI_MANIFEST)
def test_manifest_parser(body: bytes, content_type: str) -> None:
    try:
        manifest = parse_manifest(body, content_type)
    except ManifestInvalid:
        return
    for d in (*manifest.blob_references, *manifest.manifests):
        assert 0 <= d.size <= MAX_SIZE


@fuzz(300)
@given(manifest=MANIFEST_DOC | JSON_VALUE, config=JSON_TEXT | JSON_VALUE.map(json.dumps))
@example(manifest={"config": {"digest": DIGEST}, "layers": []}, config=nested(100_000))
@example(manifest={"config": {"digest": DIGEST}, "layers": []},
         config='{"rootfs": {"diff_ids": 5}}')  # fmt: skip
@example(manifest={"manifests": None}, config="")
@example(manifest={"manifests": [None]}, config="")
@example(manifest={"mediaType": []}, config="")
def test_scanner_manifest_and_config_reader(manifest: Any, config: str) -> None:
    blobs = {DIGEST: config.encode()}

    def open_blob(digest: str) -> io.BytesIO:
        if digest not in blobs:
            raise ScanFailed(f"blob {digest} missing")
        return io.BytesIO(blobs[digest])

    source = BlobStoreSource(json.dumps(manifest).encode(), open_blob)
    try:
        targets = resolve_targets(source)
    except ScanFailed:
        return
    assert targets


# --- layers: tar walker and decompressors ---------------------------------------------------

TYPES = st.sampled_from([b"0", b"\0", b"1", b"2", b"3", b"4", b"5", b"6", b"7", b"L", b"K",
                         b"x", b"g", b"S", b"V"]) | st.binary(min_size=1, max_size=1)  # fmt: skip
NUMBER_FIELD = st.one_of(
    st.integers(min_value=0, max_value=2**33).map(lambda n: b"%011o\0" % n),
    st.binary(min_size=12, max_size=12),
    st.just(b"\x80" + b"\0" * 3 + (2**62).to_bytes(8, "big")),  # base-256, 4 EiB
    st.just(b"\xff" * 12),  # base-256, negative
)


def _header(name: bytes, kind: bytes, size: bytes, link: bytes, ustar: bool) -> bytes:
    """A 512-byte tar header with a correct checksum, whatever its other fields hold."""
    h = bytearray(512)
    h[0:100] = name[:100].ljust(100, b"\0")
    h[100:108] = b"0000644\0"
    h[124:136] = size[:12].ljust(12, b"\0")
    h[156:157] = kind
    h[157:257] = link[:100].ljust(100, b"\0")
    if ustar:
        h[257:265] = b"ustar\x0000"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


@st.composite
def raw_tars(draw: st.DrawFn) -> bytes:
    """Hand-built headers (valid checksums, hostile fields) with data of any length."""
    out = b""
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        kind = draw(TYPES)
        size_field = draw(NUMBER_FIELD)
        out += _header(
            draw(
                st.sampled_from([b"etc/os-release", b"var/lib/dpkg/status", b"../x", b"/abs"])
                | st.binary(max_size=100)
            ),
            kind,
            size_field,
            draw(st.binary(max_size=100)),
            draw(st.booleans()),
        )
        if kind == b"x":
            out += draw(st.sampled_from([b"30 path=etc/os-release\n", b"99999999999 x\n",
                                         b"0 =\n", b"-5 a=b\n", b"8 size=-1\n"])
                        | st.binary(max_size=64)).ljust(512, b"\0")  # fmt: skip
        else:
            out += draw(st.binary(max_size=1100))
    if draw(st.booleans()):
        out += b"\0" * 1024
    return out


MEMBER_TYPES = [tarfile.REGTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.DIRTYPE,
                tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE]  # fmt: skip


@st.composite
def tarfile_tars(draw: st.DrawFn) -> bytes:
    """Real tar archives (tarfile) of odd members: links, devices, long and deep names."""
    buf = io.BytesIO()
    fmt = draw(st.sampled_from([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT]))
    names = st.sampled_from(["etc/os-release", "var/lib/dpkg/status", "../../etc/passwd",
                             "/etc/shadow", ".wh..wh..opq", "a/.wh.b", ".wh.", "a//./b",
                             "x/" * 300 + "y", "n" * 5000, "lib/apk/db/installed"])  # fmt: skip
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tar:
        for _ in range(draw(st.integers(min_value=0, max_value=5))):
            info = tarfile.TarInfo(draw(names | st.text(min_size=1, max_size=30)))
            info.type = draw(st.sampled_from(MEMBER_TYPES))
            info.linkname = draw(names | st.text(max_size=20))
            data = draw(
                st.sampled_from([b"ID=debian\nVERSION_ID=12\n", b""]) | st.binary(max_size=200)
            )
            info.size = len(data) if info.type == tarfile.REGTYPE else 0
            try:
                tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
            except (ValueError, UnicodeError):
                continue  # a name this format cannot hold
    return buf.getvalue()


def _compress(data: bytes, how: str) -> bytes:
    if how == "gzip":
        return gzip.compress(data)
    if how == "zstd":
        return zstandard.ZstdCompressor().compress(data)
    if how == "zlib":
        return zlib.compress(data)
    return data


@st.composite
def layer_blobs(draw: st.DrawFn) -> bytes:
    data = draw(raw_tars() | tarfile_tars() | st.binary(max_size=2000))
    blob = _compress(data, draw(st.sampled_from(["gzip", "zstd", "none", "zlib"])))
    cut = draw(st.sampled_from(["whole", "truncate", "flip", "append"]))
    if cut == "truncate" and blob:
        blob = blob[: draw(st.integers(min_value=0, max_value=len(blob) - 1))]
    elif cut == "flip" and blob:
        at = draw(st.integers(min_value=0, max_value=len(blob) - 1))
        blob = blob[:at] + bytes([blob[at] ^ draw(st.integers(1, 255))]) + blob[at + 1 :]
    elif cut == "append":
        blob += draw(st.binary(min_size=1, max_size=64))
    return blob


ANALYZERS = default_analyzers()
LIMITS = Limits(max_files=500, max_spool_bytes=1 << 20)


@fuzz(400)
@given(blob=layer_blobs())
@example(blob=gzip.compress(b"x" * 4000)[:-9])  # truncated gzip
@example(blob=zstandard.ZstdCompressor().compress(b"x" * 4000)[:-3])  # truncated zstd
@example(blob=_header(b"a", b"x", b"%011o\0" % 12, b"", True) + b"9 path=\x00\n".ljust(512, b"\0"))
def test_layer_walk_and_decompressors(
    tmp_path_factory: pytest.TempPathFactory, blob: bytes
) -> None:
    scratch = tmp_path_factory.mktemp("walk") / "scratch"
    scratch.mkdir()
    reason = "ok"
    try:
        analyze_layer(io.BytesIO(blob), "sha256:" + "0" * 64, ANALYZERS, scratch, LIMITS)
    except ScanFailed as exc:
        reason = exc.reason
    assert reason
    assert list(scratch.iterdir()) == []  # nothing left, nothing written beside it
    assert [p.name for p in scratch.parent.iterdir()] == [scratch.name]


@fuzz(200)
@given(blob=layer_blobs())
def test_tar_reader_and_streams(blob: bytes) -> None:
    sizes, reason = [], "ok"
    try:
        reader = TarReader(open_tar_stream(io.BytesIO(blob), LIMITS))
        for entry in reader:
            sizes.append(entry.size)
            reader.read(1 << 16)
    except ScanFailed as exc:
        reason = exc.reason
    assert reason
    assert all(size >= 0 for size in sizes)


# --- credentials -------------------------------------------------------------------------


@fuzz(400)
@given(
    header=st.none()
    | st.text(max_size=300)
    | st.builds(
        "AWS4-HMAC-SHA256 Credential={}, SignedHeaders={}, Signature={}".format,
        st.text(max_size=80) | st.just("AKIA/20260101/us-east-1/ecr/aws4_request"),
        st.text(max_size=40),
        st.text(alphabet="0123456789abcdef٠١", min_size=64, max_size=64) | st.text(max_size=70),
    ),
    amz_date=st.none() | st.text(max_size=24) | st.just("20260101T000000Z"),
    now=st.floats(min_value=0, max_value=4e9),  # the server's clock, not input
)
@example(header=None, amz_date="99991231T235959Z", now=0.0)
def test_sigv4_header_and_date(header: str | None, amz_date: str | None, now: float) -> None:
    kind = "AcceptedException"
    try:
        parsed = parse_authorization(header)
        check_time(amz_date, parsed.date, now)
    except SignatureProblem as exc:
        kind = exc.kind
    assert kind.endswith("Exception")


@fuzz(400)
@given(password=st.text(max_size=200) | st.builds(
    "tg1.{}.{}.{}".format, st.text(max_size=20), st.text(max_size=30), st.text(max_size=50)
))  # fmt: skip
@example(password="tg1.AKIA.99999999999.sécret")
@example(password="tg1.AKIA.²³.x")
def test_registry_token_verify(password: str) -> None:
    issuer = TokenIssuer(b"k" * 32, clock=lambda: 1e9)
    with contextlib.suppress(Unauthorized):
        issuer.verify(password)
    good = issuer.issue("AKIAEXAMPLE")
    assert issuer.verify(good.password) == "AKIAEXAMPLE"


@fuzz(400)
@given(header=st.none() | st.text(max_size=200) | st.builds(
    lambda scheme, raw: f"{scheme} {base64.b64encode(raw).decode()}",
    st.sampled_from(["Basic", "basic", "AWS4-HMAC-SHA256", "Bearer"]),
    st.binary(max_size=80),
))  # fmt: skip
@example(header="Basic \x80")
def test_claimed_key_id(header: str | None) -> None:
    found = claimed_key_id(header)
    assert found is None or len(found) <= 128


PART = st.binary(max_size=3000) | st.builds(bytes, st.integers(0, 70_000))


@fuzz(150)
@given(
    parts=st.lists(PART, min_size=1, max_size=3),
    level=st.sampled_from([-5, 1, 3, 19]),
    checksum=st.booleans(),
    content_size=st.booleans(),
    data=st.data(),
)
def test_zstd_stream_cut_anywhere_fails(
    parts: list[bytes], level: int, checksum: bool, content_size: bool, data: st.DataObject
) -> None:
    """Complete zstd streams (one frame per part) decode whole; every strict prefix fails."""
    zc = zstandard.ZstdCompressor(
        level=level, write_checksum=checksum, write_content_size=content_size
    )
    frames = [zc.compress(p) for p in parts]
    blob = b"".join(frames)
    assert open_tar_stream(io.BytesIO(blob), LIMITS).read() == b"".join(parts)
    # A cut between frames leaves a complete, shorter stream: only cuts inside one count.
    ends = {sum(len(f) for f in frames[: i + 1]) for i in range(len(frames))}
    cut = data.draw(
        st.integers(min_value=4, max_value=len(blob) - 1).filter(lambda c: c not in ends),
        label="cut",
    )
    with pytest.raises(ScanFailed, match="zstd"):
        open_tar_stream(io.BytesIO(blob[:cut]), LIMITS).read()
