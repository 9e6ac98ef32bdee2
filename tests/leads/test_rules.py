"""Pure rules of the pipeline: status transitions, scoring-rule shapes, the contact payload."""

from __future__ import annotations

import pytest

from dreamer.core.errors import Conflict, ValidationFailed
from dreamer.leads.schemas import ContactIn, RuleIn
from dreamer.leads.service import capture_payload, check_rule, check_transition, split_name
from dreamer.models import LeadStatus as S


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.NEW, S.CONTACTED),
        (S.NEW, S.NEGOTIATING),
        (S.QUALIFIED, S.CONVERTED),
        (S.CONTACTED, S.CONTACTED),
        (S.CONVERTED, S.CONVERTED),
    ],
)
def test_forward_moves_and_staying_put_are_allowed(current: S, target: S) -> None:
    check_transition(current, target, None)


@pytest.mark.parametrize(
    ("current", "target"),
    [(S.QUALIFIED, S.NEW), (S.NEGOTIATING, S.CONTACTED), (S.CONVERTED, S.NEW), (S.LOST, S.NEW)],
)
def test_backward_moves_and_reopening_are_conflicts(current: S, target: S) -> None:
    with pytest.raises(Conflict):
        check_transition(current, target, None)


def test_a_lost_lead_needs_a_reason() -> None:
    with pytest.raises(ValidationFailed, match="lostReason"):
        check_transition(S.CONTACTED, S.LOST, None)
    check_transition(S.CONTACTED, S.LOST, "went with a competitor")


@pytest.mark.parametrize(
    ("rule", "missing"),
    [
        ({"kind": "field_present"}, "field"),
        ({"kind": "field_equals", "field": "source"}, "value"),
        ({"kind": "event"}, "event"),
        ({"kind": "inactivity"}, "days"),
    ],
)
def test_each_kind_of_scoring_rule_needs_its_fields(rule: dict[str, str], missing: str) -> None:
    with pytest.raises(ValidationFailed, match=missing):
        check_rule(RuleIn.model_validate({"name": "r", "points": 5, **rule}))
    complete = {"field": "company", "value": "x", "event": "registered", "days": 30}
    check_rule(RuleIn.model_validate({"name": "r", "points": 5, **complete, **rule}))


def test_names_split_at_the_first_space() -> None:
    assert split_name(" Ada  King Lovelace ") == ("Ada", "King Lovelace")
    assert split_name("Cher") == ("Cher", None)
    assert split_name(None) == (None, None)


def test_the_website_form_becomes_a_capture_payload() -> None:
    form = ContactIn.model_validate(
        {
            "name": "Ada Lovelace",
            "email": "ada@example.com",
            "company": "Engines",
            "message": "Hello",
            "type": "Consulting",
            "utm_source": "newsletter",
        }
    )
    payload = capture_payload(form, "203.0.113.7")
    assert payload["first_name"] == "Ada" and payload["last_name"] == "Lovelace"
    assert payload["inquiry_type"] == "consulting" and payload["source"] == "website"
    assert payload["source_details"] == {"utm_source": "newsletter", "ip": "203.0.113.7"}
