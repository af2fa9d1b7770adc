"""The hand-made histories behind the report tests (compliance-rules.md §6 and edge cases)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from rep_builder import NO_PAYMENT_DATE, Inv

E1, E2, E3, E4 = "P0800001A", "P0800002B", "P0800003C", "P0800004D"
ENTITIES = [
    (E1, "Ajuntament de Proves"),
    (E2, "Consell Comarcal de Proves"),
    (E3, "Consorci de Proves"),
    (E4, "Institut Municipal de Proves"),
]


def worked_example(year: int = 2025) -> list[Inv]:
    """§6.1/§6.2 operations A–E (entity E1); ``year`` shifts every date (2017: old method)."""

    def d(month: int, day: int) -> date:
        return date(year, month, day)

    return [
        # A: conformity 10-01, registered 02-01, paid 09-02: 30 days (8 under the old method).
        Inv("A", E1, 1000, d(1, 2), {"ANNOTATED": d(1, 3), "ACCEPTED": d(1, 10),
                                     "RECOGNISED": d(1, 15), "PAID": d(2, 9)}),
        # B: no acceptance procedure: registry 05-01, paid 25-01: 20 days (-10 old).
        Inv("B", E1, 3000, d(1, 5), {"ANNOTATED": d(1, 6), "RECOGNISED": d(1, 20),
                                     "PAID": d(1, 25)}),
        # C: works certification approved 01-02 (= registry), paid 13-03: 40 days (10 old).
        Inv("C", E1, 2000, d(2, 1), {"ANNOTATED": d(2, 1), "ACCEPTED": d(2, 1),
                                     "RECOGNISED": d(2, 10), "PAID": d(3, 13)}),
        # D, E: pending at 31-03 (conformity 01-03 and 30-01): 30 and 60 days (9 and 45 old).
        Inv("D", E1, 4000, d(2, 20), {"ANNOTATED": d(2, 21), "ACCEPTED": d(3, 1)}),
        Inv("E", E1, 1000, d(1, 15), {"ANNOTATED": d(1, 16), "ACCEPTED": d(1, 30),
                                      "RECOGNISED": d(2, 2)}),
    ]  # fmt: skip


def main_q1() -> dict:
    """Warehouse for 2025-Q1: §6.1 (E1), a 10-day 9,000 € entity (E2, for §6.3) and invoices
    the figures must leave out: quarantined, credit note, rejected."""
    invoices = [
        *worked_example(),
        Inv("F", E2, 9000, date(2025, 1, 10), {"ANNOTATED": date(2025, 1, 11),
                                               "ACCEPTED": date(2025, 2, 1),
                                               "RECOGNISED": date(2025, 2, 3),
                                               "PAID": date(2025, 2, 11)}),
        Inv("Q", E1, 5000, date(2025, 1, 10), {"ANNOTATED": date(2025, 1, 11)}),
        Inv("Q2", E2, 800, date(2025, 2, 10), {"PAID": date(2025, 2, 20)}),
        Inv("N", E1, -500, date(2025, 1, 10), {"ANNOTATED": date(2025, 1, 11),
                                               "PAID": date(2025, 2, 1)}, invoice_class="OR"),
        Inv("R", E1, 700, date(2025, 1, 10), {"REJECTED": date(2025, 1, 12)},
            reject_reason="Falta el número d'expedient"),
    ]  # fmt: skip
    return {
        "invoices": invoices,
        "entities": ENTITIES[:2],
        "quarantine": [
            ("Q", "quality", "amount_mismatch"),
            ("Q", "facturae", "signature_invalid"),
            ("Q2", "quality", "amount_mismatch"),
        ],
        "accounting": [("D", "RECOGNISED", date(2025, 3, 20)), ("Q", "RECOGNISED", date(2025, 3, 15))],
    }


def madrid_midnight(day: date) -> datetime:
    """23:30 UTC on ``day``: already the next day in Madrid."""
    return datetime(day.year, day.month, day.day, 23, 30, tzinfo=UTC)


def hand_q1() -> dict:
    """Warehouse for the hand cases, §6.6 (E3) and §6.5 before its payment (E4)."""
    d = date
    invoices = [
        Inv("same_day", E3, 500, datetime(2025, 2, 3, 10, tzinfo=UTC),
            {"PAID": datetime(2025, 2, 3, 15, tzinfo=UTC)}),
        Inv("across_end", E3, 600, d(2025, 3, 20), {"ANNOTATED": d(2025, 3, 21),
                                                    "ACCEPTED": d(2025, 3, 25)}),
        Inv("rejected", E3, 700, d(2025, 1, 10), {"REJECTED": d(2025, 1, 20)},
            reject_reason="Duplicada"),
        Inv("credit", E3, -300, d(2025, 1, 15), {"ANNOTATED": d(2025, 1, 16),
                                                 "PAID": d(2025, 2, 1)}, invoice_class="OR"),
        Inv("accepted_first", E3, 800, d(2025, 1, 12), {"ACCEPTED": d(2025, 1, 5),
                                                        "ANNOTATED": d(2025, 1, 13),
                                                        "RECOGNISED": d(2025, 1, 20),
                                                        "PAID": d(2025, 2, 1)}),
        Inv("no_acceptance", E3, 900, d(2025, 1, 20), {"PAID": d(2025, 2, 25)}),
        Inv("midnight", E3, 400, madrid_midnight(d(2025, 1, 31)),
            {"PAID": madrid_midnight(d(2025, 3, 31))}, payment_date=NO_PAYMENT_DATE),
        Inv("unannotated", E3, 100, d(2025, 2, 1)),
        # §6.6
        Inv("art10_listed", E3, 1500, d(2024, 12, 14), {"ANNOTATED": d(2024, 12, 15)}),
        Inv("art10_recent", E3, 1600, d(2025, 1, 9), {"ANNOTATED": d(2025, 1, 10)}),
        Inv("art10_recognised", E3, 1700, d(2024, 11, 1), {"ANNOTATED": d(2024, 11, 2),
                                                           "RECOGNISED": d(2025, 3, 20)}),
        Inv("art10_rejected", E3, 1800, d(2024, 9, 30), {"ANNOTATED": d(2024, 10, 1),
                                                         "REJECTED": d(2024, 10, 5)}),
        # §6.5 before its payment: conformity 02-12-2024, due 01-01-2025.
        Inv("interest", E4, 10000, d(2024, 11, 20), {"ANNOTATED": d(2024, 11, 21),
                                                     "ACCEPTED": d(2024, 12, 2),
                                                     "RECOGNISED": d(2024, 12, 10)}),
        # Recognised in the accounting system on 10-03, never pushed: owed to the hub.
        Inv("owed", E4, 200, d(2025, 2, 10), {"ANNOTATED": d(2025, 2, 11)}),
    ]  # fmt: skip
    return {
        "invoices": invoices,
        "entities": ENTITIES[2:],
        "accounting": [
            ("owed", "RECOGNISED", d(2025, 3, 10)),
            ("across_end", "PAID", d(2025, 4, 10)),  # after the period end: not yet owed
        ],
    }


def hand_later_history() -> list[Inv]:
    """What the hub learns after 2025-Q1: payments, a recognition and a new invoice."""
    d = date
    return [
        Inv("across_end", E3, 600, d(2025, 3, 20), {"ANNOTATED": d(2025, 3, 21),
                                                    "ACCEPTED": d(2025, 3, 25),
                                                    "PAID": d(2025, 4, 10)}),
        Inv("art10_listed", E3, 1500, d(2024, 12, 14), {"ANNOTATED": d(2024, 12, 15),
                                                        "RECOGNISED": d(2025, 4, 2)}),
        Inv("interest", E4, 10000, d(2024, 11, 20), {"ANNOTATED": d(2024, 11, 21),
                                                     "ACCEPTED": d(2024, 12, 2),
                                                     "RECOGNISED": d(2024, 12, 10),
                                                     "PAID": d(2025, 7, 31)}),
        Inv("new_in_may", E3, 2500, d(2025, 5, 5), {"ANNOTATED": d(2025, 5, 6)}),
    ]  # fmt: skip


def late_push_before() -> dict:
    """Entity E1 in October 2025 as the hub and the accounting system first stood: states the
    accounting system dated in October, some only pushed to the hub in November."""
    d = date
    invoices = [
        # Paid 20-10; neither the accounting import nor the hub knows it yet.
        Inv("late_paid", E1, 1000, d(2025, 10, 1), {"ANNOTATED": d(2025, 10, 2),
                                                    "RECOGNISED": d(2025, 10, 10)}),
        # Conformity 06-10 in the accounting system only: the hub has no ACCEPTED.
        Inv("accepted_acct", E1, 3000, d(2025, 10, 1), {"ANNOTATED": d(2025, 10, 2)}),
        # Conformity 15-10 in accounting, recorded by the hub only on 03-11 (the push).
        Inv("accepted_pushed", E1, 4000, d(2025, 10, 1), {"ANNOTATED": d(2025, 10, 2),
                                                          "ACCEPTED": d(2025, 11, 3)}),
        # Paid 25-10 in accounting, not pushed: paid for the PMP, owed to the hub.
        Inv("paid_acct_only", E1, 2000, d(2025, 10, 1), {"ANNOTATED": d(2025, 10, 2),
                                                         "RECOGNISED": d(2025, 10, 5)}),
    ]  # fmt: skip
    return {
        "invoices": invoices,
        "entities": ENTITIES[:1],
        "accounting": [
            ("accepted_acct", "ACCEPTED", d(2025, 10, 6)),
            ("accepted_pushed", "ACCEPTED", d(2025, 10, 15)),
            ("paid_acct_only", "PAID", d(2025, 10, 25)),
        ],
    }


def late_push_after() -> dict:
    """What arrives in November: the 20-10 payment, imported and pushed on 01-11 (the hub's
    state date), with its dataPagament."""
    d = date
    return {
        "invoices": [
            Inv("late_paid", E1, 1000, d(2025, 10, 1), {"ANNOTATED": d(2025, 10, 2),
                                                        "RECOGNISED": d(2025, 10, 10),
                                                        "PAID": d(2025, 11, 1)},
                payment_date=d(2025, 10, 20)),
        ],
        "accounting": [
            ("late_paid", "ANNOTATED", d(2025, 10, 2)),
            ("late_paid", "RECOGNISED", d(2025, 10, 10)),
            ("late_paid", "PAID", d(2025, 10, 20)),
        ],
    }  # fmt: skip
