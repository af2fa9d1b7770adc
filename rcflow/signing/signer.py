"""What any signing service offers rcflow: send a PDF to signatories, follow it, fetch it signed."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

A4_WIDTH_PX, A4_HEIGHT_PX = 794, 1123  # A4 at 96 PPI, the grid signature positions are given in

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
_PHONE = re.compile(r"^\+?[0-9]{9,11}$")  # the service keeps 12 characters: '+' and 11 digits


class SignatoryRole(StrEnum):
    """What a person does with the document."""

    SIGN = "sign"
    REVIEW = "review"
    COPY = "copy"


class SignatureState(StrEnum):
    """Where a document sent for signature stands."""

    IN_PROCESS = "in_process"
    SIGNED = "signed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self is not SignatureState.IN_PROCESS


class SigningInputError(ValueError):
    """A request that no signing service would take, said on one line."""


@dataclass(frozen=True)
class Placement:
    """Where a signature goes: page (from 1) and A4 pixel coordinates (96 PPI)."""

    page: int
    x: int
    y: int

    def __post_init__(self) -> None:
        if self.page < 1 or not (0 <= self.x <= A4_WIDTH_PX and 0 <= self.y <= A4_HEIGHT_PX):
            raise SigningInputError(
                f"signature position page {self.page} ({self.x}, {self.y}) is outside an A4 page "
                f"({A4_WIDTH_PX} x {A4_HEIGHT_PX} px)"
            )


@dataclass(frozen=True)
class Signatory:
    """A person in the signing circuit; ``order`` 1 acts first."""

    name: str
    email: str
    role: SignatoryRole = SignatoryRole.SIGN
    order: int = 1
    surname1: str = ""
    surname2: str = ""
    phone: str = ""
    placements: tuple[Placement, ...] = ()

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise SigningInputError("a signatory needs a name")
        if not _EMAIL.match(self.email):
            raise SigningInputError(f"signatory {self.name!r}: {self.email!r} is not an e-mail address")
        if self.phone and not _PHONE.match(self.phone):
            raise SigningInputError(
                f"signatory {self.name!r}: {self.phone!r} is not a mobile number (+34600111222)"
            )
        if self.order < 1:
            raise SigningInputError(f"signatory {self.name!r}: order must be 1 or more")

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.name, self.surname1, self.surname2) if part)


@dataclass(frozen=True)
class SignatureRequest:
    """A PDF and the people who must act on it; ``advanced`` asks for an SMS one-time code."""

    title: str
    pdf: bytes = field(repr=False)
    signatories: tuple[Signatory, ...]
    document_type: str = ""
    keys: dict[str, str] = field(default_factory=dict)  # service-side search keys (period, document)
    advanced: bool = False
    message: str = ""

    def __post_init__(self) -> None:
        if not self.pdf.startswith(b"%PDF-"):
            raise SigningInputError(f"{self.title!r} is not a PDF document")
        if not any(s.role is SignatoryRole.SIGN for s in self.signatories):
            raise SigningInputError(f"{self.title!r} has no signatory who signs")
        if self.advanced and any(s.role is SignatoryRole.SIGN and not s.phone for s in self.signatories):
            raise SigningInputError("an advanced signature needs a mobile number for every signer")


@dataclass(frozen=True)
class SignatoryStatus:
    """One person's part, as the service reports it."""

    name: str
    email: str
    role: str
    done: bool


@dataclass(frozen=True)
class SignatureStatus:
    """A document's state at the service."""

    operation_id: str
    state: SignatureState
    title: str = ""
    signatories: tuple[SignatoryStatus, ...] = ()
    keys: dict[str, str] = field(default_factory=dict)
    verification_code: str = ""  # the CSV printed on every page, if the service gives one


class Signer(Protocol):
    """A signing service. Implementations raise one-line errors; they never log secrets."""

    service: str

    def send(self, request: SignatureRequest) -> str:
        """Send the document; returns the service's operation id."""
        ...

    def statuses(self, operation_ids: list[str] | None = None) -> list[SignatureStatus]:
        """Every document's state (or those of ``operation_ids``), by polling."""
        ...

    def fetch_signed(self, operation_id: str) -> bytes:
        """The signed PDF, verified to be a readable PDF."""
        ...

    def mark_downloaded(self, operation_ids: list[str]) -> None:
        """Tell the service these signed documents are safely stored."""
        ...
