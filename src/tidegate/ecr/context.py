"""What every ECR operation gets: settings, the shared registry service, auth, the caller."""

from __future__ import annotations

from dataclasses import dataclass

from tidegate.auth.keys import AccessKey
from tidegate.auth.principal import Principal
from tidegate.auth.service import AuthService
from tidegate.config import Settings
from tidegate.ecr.errors import EcrError
from tidegate.registry.service import RegistryService


@dataclass(frozen=True, slots=True)
class EcrContext:
    """Per-request context; `caller` is None only when authentication is disabled."""

    settings: Settings
    registry: RegistryService
    auth: AuthService
    caller: AccessKey | None
    base_url: str  # scheme://host[:port] clients use for /v2/
    principal: Principal | None = None  # who `caller` acts as (None: auth disabled)

    @property
    def registry_id(self) -> str:
        return self.settings.registry_id

    @property
    def host(self) -> str:
        return self.base_url.split("://", 1)[-1]

    def repository_arn(self, name: str) -> str:
        return f"arn:aws:ecr:{self.settings.region}:{self.registry_id}:repository/{name}"

    def repository_from_arn(self, arn: str) -> str:
        """The repository name in one of this registry's repository ARNs."""
        prefix = f"arn:aws:ecr:{self.settings.region}:{self.registry_id}:repository/"
        if not arn.startswith(prefix) or len(arn) == len(prefix):
            msg = (
                "Invalid parameter at 'resourceArn' failed to satisfy constraint: "
                f"'{arn}' is not a repository ARN of this registry ({prefix}<name>)"
            )
            raise EcrError("InvalidParameterException", msg)
        return arn[len(prefix) :]

    def check_registry_id(self, params: dict[str, object]) -> None:
        """A `registryId` other than this registry's is refused."""
        given = params.get("registryId")
        if given is not None and given != self.registry_id:
            msg = (
                "Invalid parameter at 'registryId' failed to satisfy constraint: "
                f"this registry's id is '{self.registry_id}', not '{given}'"
            )
            raise EcrError("InvalidParameterException", msg)
