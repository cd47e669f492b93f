"""Every metadata table in one place (SQLAlchemy Core), portable between SQLite and PostgreSQL.

Blobs live in the blob store; these tables hold relationships:

    repositories ─┬─< repository_blobs >── blobs          (which repo may see which blob)
                  ├─< manifests ─< manifest_refs          (config/layers/children of a manifest)
                  ├─< tags >── manifests
                  ├─< uploads                             (in-progress blob uploads)
                  └─< repository_resource_tags            (ECR TagResource key/values)
    registry_settings                                     (registry-wide JSON documents)
    registry_generation                                   (lookup cache invalidation)
    access_keys                                           (ECR/registry credentials)

Timestamps are float epoch seconds (what the ECR wire format wants, and sortable everywhere).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

DIGEST = String(150)

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("tag_mutability", String(32), nullable=False, default="MUTABLE"),
    Column("mutability_exclusions", Text, nullable=False, default="[]"),  # JSON list
    Column("scan_on_push", Boolean, nullable=False, default=False),
    Column("encryption_type", String(16), nullable=False, default="AES256"),
    Column("kms_key", String(2048), nullable=True),
)

blobs = Table(
    "blobs",
    metadata,
    Column("digest", DIGEST, primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    # Bumped whenever something new starts to depend on the blob; GC spares recent ones.
    Column("last_used_at", Float, nullable=False),
)

repository_blobs = Table(
    "repository_blobs",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", DIGEST, ForeignKey("blobs.digest", ondelete="CASCADE"), primary_key=True),
    Column("linked_at", Float, nullable=False),
)

manifests = Table(
    "manifests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("digest", DIGEST, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("artifact_type", String(255), nullable=False, default=""),
    Column("size", BigInteger, nullable=False),
    Column("image_size", BigInteger, nullable=False),  # config + layers (indexes: largest child)
    Column("config_digest", DIGEST, nullable=True),
    Column("subject_digest", DIGEST, nullable=True),
    Column("annotations", Text, nullable=False, default="{}"),  # JSON object
    Column("pushed_at", Float, nullable=False),
    Column("last_pulled_at", Float, nullable=True),
    UniqueConstraint("repository_id", "digest", name="uq_manifests_repo_digest"),
)
Index("ix_manifests_subject", manifests.c.repository_id, manifests.c.subject_digest)

manifest_refs = Table(
    "manifest_refs",
    metadata,
    Column(
        "manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("position", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # config | layer | manifest
    Column("digest", DIGEST, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("media_type", String(255), nullable=False),
    Column("platform", String(64), nullable=False, default=""),
)
Index("ix_manifest_refs_digest", manifest_refs.c.digest)

tags = Table(
    "tags",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("name", String(300), primary_key=True),
    Column("manifest_id", Integer, ForeignKey("manifests.id", ondelete="CASCADE"), nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_tags_manifest", tags.c.manifest_id)

uploads = Table(
    "uploads",
    metadata,
    Column("id", String(36), primary_key=True),
    Column(
        "repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("offset", BigInteger, nullable=False, default=0),  # bytes acknowledged (fsynced)
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    # The blob store's own record of the upload at `offset` (S3: multipart id, parts and
    # buffered tail), written in the same UPDATE as `offset` so any process can continue.
    Column("store_state", Text, nullable=False, server_default=""),
    # sha256 of the bytes up to `offset` when the acknowledging process knew it: the PUT that
    # ends a chunked upload usually lands on another `--workers` process or replica, which
    # would otherwise read the whole blob back to verify its digest.
    Column("acked_sha256", String(71), nullable=True),
)

repository_resource_tags = Table(
    "repository_resource_tags",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("key", String(128), primary_key=True),
    Column("value", String(256), nullable=False),
)

registry_settings = Table(
    "registry_settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),  # JSON document
    Column("updated_at", Float, nullable=False),
)

# One row: bumped in the same transaction as every change to repositories, manifests, tags
# or blob links, so each process's lookup cache can tell with one read whether it is current.
registry_generation = Table(
    "registry_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", BigInteger, nullable=False),
)

access_keys = Table(
    "access_keys",
    metadata,
    Column("access_key_id", String(32), primary_key=True),
    # The SigV4 verifier needs the secret itself, so it is encrypted, not hashed.
    Column("secret_ciphertext", LargeBinary, nullable=False),
    Column("principal", String(128), nullable=False),
    Column("description", String(256), nullable=False, default=""),
    Column("created_at", Float, nullable=False),
    Column("last_used_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
)

# ECR lifecycle policy per repository (registry.lifecycle): the policy applied by the
# server, when it last ran, and the policy of the last StartLifecyclePolicyPreview.
lifecycle_policies = Table(
    "lifecycle_policies",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("policy", Text, nullable=True),
    Column("evaluated_at", Float, nullable=True),
    Column("preview_policy", Text, nullable=True),
)

# Scan state per image as the ECR API reports it (imageScanStatus). Until the scanning engine
# runs, a requested scan stays PENDING; `requested_at` enforces the basic 24 h quota.
image_scans = Table(
    "image_scans",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", DIGEST, primary_key=True),
    Column("scan_type", String(16), nullable=False),
    Column("status", String(32), nullable=False),
    Column("description", String(512), nullable=False, default=""),
    Column("requested_at", Float, nullable=False),
    Column("completed_at", Float, nullable=True),
)

# --- scanning engine --------------------------------------------------------------------
# image_scans gains: what the last scan found (summary JSON for DescribeImages), which
# vulnerability-DB version it used, the effective frequency and when the last BASIC scan ran.
image_scans.append_column(Column("vulndb_version", Integer, nullable=True))
image_scans.append_column(Column("vulndb_updated_at", Float, nullable=True))
image_scans.append_column(
    Column("severity_counts", Text, nullable=False, default="{}", server_default="{}")
)
image_scans.append_column(
    Column("frequency", String(32), nullable=False, default="MANUAL", server_default="MANUAL")
)
image_scans.append_column(Column("last_basic_scan_at", Float, nullable=True))
image_scans.append_column(Column("started_at", Float, nullable=True))

# Durable job queue (see engine/jobs.py for the state diagram).
scan_jobs = Table(
    "scan_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),  # states.JobKind: scan | rescan
    Column(
        "repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=True
    ),
    Column("digest", DIGEST, nullable=True),
    Column("scan_type", String(16), nullable=False),  # BASIC | ENHANCED
    Column("reason", String(16), nullable=False),  # push | manual | rescan
    Column("state", String(16), nullable=False),  # queued | running | done | failed
    Column("dedupe_key", String(400), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=5),
    Column("run_after", Float, nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_expires", Float, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("payload", Text, nullable=False, default="{}"),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_scan_jobs_claim", scan_jobs.c.state, scan_jobs.c.run_after)
Index("ix_scan_jobs_dedupe", scan_jobs.c.dedupe_key, scan_jobs.c.state)

# The analyzed inventory of one manifest (content-addressed: shared by every repository that
# holds the digest), kept so re-scans re-match without reading layers again.
image_inventories = Table(
    "image_inventories",
    metadata,
    Column("digest", DIGEST, primary_key=True),
    Column("inventory", LargeBinary, nullable=False),  # zlib-compressed JSON
    Column("analyzer_key", String(512), nullable=False),
    Column("analyzed_at", Float, nullable=False),
)

# The re-scan index, in two tables. `indexed_packages` holds each distinct package (with the
# advisory key and version it is matched under) once: images built on one base share most of
# theirs. `inventory_packages` maps package -> image digest in narrow rows, so the images a DB
# change set touches come from one covering-index range scan, not from re-reading inventories.
indexed_packages = Table(
    "indexed_packages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("namespace", String(64), nullable=False),
    Column("name", String(512), nullable=False),
    Column("package_hash", String(64), nullable=False, unique=True),  # sha256 of `package`
    Column("package", Text, nullable=False),  # JSON of scanner.model.Package + match version
)
Index("ix_indexed_packages_key", indexed_packages.c.namespace, indexed_packages.c.name)

inventory_packages = Table(
    "inventory_packages",
    metadata,
    Column(
        "package_id",
        Integer,
        ForeignKey("indexed_packages.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("digest", DIGEST, primary_key=True),
)
Index("ix_inventory_packages_digest", inventory_packages.c.digest)

# The long, image-independent text of findings, stored once however many images share it
# (a base image's vulnerabilities repeat in every image built on it): the advisory details
# and the enhanced finding's rendered static members. Content-addressed by sha256.
finding_details = Table(
    "finding_details",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("details", Text, nullable=False),  # JSON: description, cvss, aliases...
    # engine.finding_shapes.static_part as JSON; NULL for rows migrated from before it.
    Column("shape", Text, nullable=True),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("digest", DIGEST, nullable=False),
    Column("scan_type", String(16), nullable=False),
    Column("finding_key", String(64), nullable=False),  # sha256 of vuln id + package identity
    Column("vuln_id", String(128), nullable=False),
    Column("package_name", String(512), nullable=False),
    Column("package_version", String(256), nullable=False),
    Column("package_manager", String(32), nullable=False),
    Column("namespace", String(64), nullable=False),
    Column("match_name", String(512), nullable=False),  # the advisory key's package name
    Column("file_path", String(1024), nullable=False, default=""),
    Column("layer", DIGEST, nullable=False, default=""),
    Column("severity", String(16), nullable=False),
    Column("score", Float, nullable=True),
    Column("fixed_in", String(256), nullable=False, default=""),
    Column("fix_available", String(8), nullable=False),  # YES | NO | PARTIAL
    # scanner.vulndb.model.FixState: fixed | not_fixed | wont_fix | deferred | end_of_life
    Column("fix_state", String(16), nullable=False, server_default="not_fixed"),
    Column("exploit_available", String(8), nullable=False),  # YES | NO
    # ACTIVE | SUPPRESSED (an open finding a SUPPRESS filter matches) | CLOSED
    Column("status", String(16), nullable=False),
    Column("details_id", String(64), ForeignKey("finding_details.id"), nullable=False),
    Column("first_observed_at", Float, nullable=False),
    Column("last_observed_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    UniqueConstraint("repository_id", "digest", "finding_key", name="uq_findings_image_key"),
)
Index("ix_findings_image", findings.c.repository_id, findings.c.digest, findings.c.status)
Index("ix_findings_vuln", findings.c.vuln_id)

# Inspector filters (CreateFilter): saved finding criteria; SUPPRESS ones are suppression
# rules, which move the open findings they match to SUPPRESSED (engine.finding_filters).
finding_filters = Table(
    "finding_filters",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("arn", String(128), nullable=False, unique=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("action", String(16), nullable=False),  # NONE | SUPPRESS
    Column("criteria", Text, nullable=False),  # Inspector FilterCriteria as JSON
    Column("description", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("tags", Text, nullable=False),  # JSON object
    Column("owner_id", String(34), nullable=False),  # the account
    Column("author", String(512), nullable=True),  # the creating principal's ARN
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),  # from the `tidegate:expires` tag
    # When the rule's expiry was applied (its findings re-evaluated); NULL while it holds.
    Column("lapsed_at", Float, nullable=True),
)

# VEX statements (OpenVEX, CycloneDX VEX) from documents pushed as OCI artifacts: a referrer
# of an image (subject_digest) or, without a subject, of its whole repository (engine.vex).
# One row per statement and package name it may match ('' = every package).
vex_statements = Table(
    "vex_statements",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "repository_id", Integer, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=False
    ),
    Column("document_digest", DIGEST, nullable=False),  # the VEX artifact's manifest
    Column("subject_digest", DIGEST, nullable=True),  # None: every image of the repository
    Column("format", String(16), nullable=False),  # openvex | cyclonedx
    Column("vuln_id", String(128), nullable=False),
    Column("package_name", String(512), nullable=False),
    Column("status", String(32), nullable=False),  # not_affected|affected|fixed|under_investigation
    Column("justification", String(128), nullable=False),
    Column("statement", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
Index("ix_vex_statements_match", vex_statements.c.vuln_id, vex_statements.c.repository_id)
Index(
    "ix_vex_statements_document", vex_statements.c.repository_id, vex_statements.c.document_digest
)

# Transactional outbox: events are rows written in the same transaction as the change.
events_outbox = Table(
    "events_outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("detail_type", String(64), nullable=False),
    # The whole EventBridge envelope as JSON, zstd-compressed (events.outbox.pack): a re-scan
    # can emit tens of thousands of 3 KB finding events, and the outbox keeps them.
    Column("body_zstd", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("logged_at", Float, nullable=True),  # written to the JSON-lines event log
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", String(36), nullable=False),
    Column("endpoint", String(1024), nullable=False),
    Column("state", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", Float, nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", Float, nullable=True),
    UniqueConstraint("event_id", "endpoint", name="uq_webhook_deliveries_event_endpoint"),
)
Index("ix_webhook_deliveries_due", webhook_deliveries.c.state, webhook_deliveries.c.next_attempt_at)

# Metering: one row per enhanced scan (initial on push, or a re-scan after a DB change).
scan_usage = Table(
    "scan_usage",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("repository_name", String(256), nullable=False),
    Column("digest", DIGEST, nullable=False),
    Column("kind", String(16), nullable=False),  # initial | rescan
    Column("month", String(7), nullable=False),  # YYYY-MM (UTC)
    Column("scanned_at", Float, nullable=False),
)
Index("ix_scan_usage_month", scan_usage.c.month, scan_usage.c.repository_name)

# ---- auth: IAM-style users, their policies, and ECR resource policies (auth.users,
# auth.authorize, ecr.operations.policies). access_keys.principal names the user.
iam_users = Table(
    "iam_users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
)

# One row per attached policy: a managed one (document NULL) or an inline document.
iam_user_policies = Table(
    "iam_user_policies",
    metadata,
    Column(
        "user_name", String(64), ForeignKey("iam_users.name", ondelete="CASCADE"), nullable=False
    ),
    Column("policy_name", String(128), nullable=False),
    Column("document", Text, nullable=True),
    Column("attached_at", Float, nullable=False),
    PrimaryKeyConstraint("user_name", "policy_name"),
)

repository_policies = Table(
    "repository_policies",
    metadata,
    Column(
        "repository_id",
        Integer,
        ForeignKey("repositories.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("policy", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

registry_policies = Table(
    "registry_policies",
    metadata,
    Column("registry_id", String(12), primary_key=True),
    Column("policy", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)

# Layers and audit (issue 15): ECR layer-upload parts, and the audit trail of requests.
# One row per UploadLayerPart, so CompleteLayerUpload can check every part but the last
# met ECR's minimum part size, durably across restarts and replicas.
layer_upload_parts = Table(
    "layer_upload_parts",
    metadata,
    Column(
        "upload_id",
        String(36),
        ForeignKey("uploads.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("first_byte", BigInteger, primary_key=True),
    Column("last_byte", BigInteger, nullable=False),
)

audit_events = Table(
    "audit_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", Float, nullable=False),  # unix time
    Column("principal", String(512), nullable=True),  # principal ARN; None when anonymous
    Column("access_key_id", String(128), nullable=True),
    Column("action", String(128), nullable=False),  # ecr:PutImage, ecr:InitiateLayerUpload, ...
    Column("resource", String(1024), nullable=True),
    Column("result", String(16), nullable=False),  # allowed | denied | failed
    Column("error", String(256), nullable=True),  # exception / OCI code when not allowed
    Column("source_ip", String(64), nullable=True),
    Column("interface", String(8), nullable=False),  # ecr | v2
)
Index("ix_audit_events_at", audit_events.c.at)
Index("ix_audit_events_principal_at", audit_events.c.principal, audit_events.c.at)

# Open findings per severity once a day, so the console's chart has history (console).
findings_daily = Table(
    "findings_daily",
    metadata,
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC)
    Column("severity", String(16), primary_key=True),
    Column("open_count", Integer, nullable=False),
    Column("recorded_at", Float, nullable=False),
)

# Inspector findings reports and SBOM exports (engine/reports.py): one row per request, its
# status moving IN_PROGRESS -> SUCCEEDED | FAILED | CANCELLED; the work runs as a scan_jobs job.
inspector_reports = Table(
    "inspector_reports",
    metadata,
    Column("id", String(36), primary_key=True),  # the reportId (a UUID)
    Column("kind", String(16), nullable=False),  # findings | sbom
    Column("format", String(16), nullable=False),  # CSV | JSON | CYCLONEDX_1_4 | SPDX_2_3
    Column("status", String(16), nullable=False),
    Column("error_code", String(32), nullable=True),
    Column("error_message", Text, nullable=True),
    Column("destination", Text, nullable=False),  # the request's s3Destination, as JSON
    Column("criteria", Text, nullable=False),  # filterCriteria / resourceFilterCriteria JSON
    Column("written", Text, nullable=False, default="[]"),  # keys written, as JSON
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)
Index("ix_inspector_reports_kind_created", inspector_reports.c.kind, inspector_reports.c.created_at)

# Vulnerability DB versions published for every process sharing a PostgreSQL database
# (engine/vulndb_share.py): each version's SQLite file in chunks, visible once committed
# whole. A process that sees a newer row than its local CURRENT fetches it and publishes
# it in its own vulnerability DB directory. Unused on SQLite (one host, one directory).
vulndb_versions = Table(
    "vulndb_versions",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("sha256", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("published_at", Float, nullable=False),
)

vulndb_chunks = Table(
    "vulndb_chunks",
    metadata,
    Column(
        "version",
        Integer,
        ForeignKey("vulndb_versions.version", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("data", LargeBinary, nullable=False),
)
