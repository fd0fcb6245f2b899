"""The responder's question to a human, in LangChain's human-in-the-loop shape.

``await_approval`` interrupts with a :class:`ReviewRequest` (what LangChain's
``HumanInTheLoopMiddleware`` raises, so LangGraph Studio and the agent chat UI can show it):
one action, "post this note on incident #N", whose ``args`` hold the text. It is resumed with
a :class:`ReviewResponse`: ``{"decisions": [{"type": "approve"} | {"type": "edit",
"edited_action": {"name": ..., "args": {"text": ...}}} | {"type": "reject", "message": ...}]}``.
The page, the HTTP API and ``pd-toolkit approve|reject`` resume through the same shape (the
responder adds its ledger's ``approval_id``, which Studio leaves out).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal, NotRequired, TypedDict

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ACTION = "post_incident_note"
ALLOWED: list[Literal["approve", "edit", "reject"]] = ["approve", "edit", "reject"]


class ActionRequest(TypedDict):
    """The action waiting for review: its name, its arguments and what it does."""

    name: str
    args: dict[str, Any]
    description: NotRequired[str]


class ReviewConfig(TypedDict):
    """Which decisions the action allows."""

    action_name: str
    allowed_decisions: list[Literal["approve", "edit", "reject"]]


class ReviewRequest(TypedDict):
    """The interrupt's value (LangChain's ``HITLRequest``)."""

    action_requests: list[ActionRequest]
    review_configs: list[ReviewConfig]


class Decision(TypedDict, total=False):
    """The decision as the graph keeps it in its state."""

    decision: Literal["approve", "reject"]
    text: str | None  # the text to post: the brief, or a reviewer's edit
    message: str | None  # a rejection's reason
    approval_id: str  # one per approval: the note's marker


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["post_incident_note"]
    args: dict[str, Any]


class _Approve(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["approve"]


class _Edit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["edit"]
    edited_action: _Action


class _Reject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["reject"]
    message: str | None = None


class ReviewResponse(BaseModel):
    """What resumes ``await_approval`` (LangChain's ``HITLResponse``): one decision for the one
    action, and optionally the approval id the responder's ledger assigned."""

    model_config = ConfigDict(extra="forbid")
    decisions: list[_Approve | _Edit | _Reject] = Field(min_length=1, max_length=1)
    approval_id: str | None = Field(default=None, pattern=r"^[0-9a-f]{8,32}$")


class ReviewError(ValueError):
    """A resume value that is not one decision this action allows."""


def review_request(target: dict[str, Any], brief: str, problem: str | None = None) -> ReviewRequest:
    """The interrupt for one incident's brief; ``problem`` says why the last decision was not
    carried out (a note PagerDuty refused, a resume value that was no decision)."""
    number = target.get("incident_number")
    description = (
        f"Post this brief as a note on PagerDuty incident #{number} ({target.get('id')})."
        " Approve posts it as it is; edit posts your text; reject posts nothing."
    )
    if problem:
        description += f" The last decision was not carried out: {problem}"
    return ReviewRequest(
        action_requests=[
            ActionRequest(
                name=ACTION,
                args={"incident_id": target.get("id"), "incident_number": number, "text": brief},
                description=description,
            )
        ],
        review_configs=[ReviewConfig(action_name=ACTION, allowed_decisions=list(ALLOWED))],
    )


def read_response(value: Any, request: ReviewRequest) -> Decision:
    """The decision a resume value carries, checked against the request it answers: an edit
    may change the text only. Raises :class:`ReviewError` with the reason."""
    try:
        response = ReviewResponse.model_validate(value)
    except ValidationError as exc:
        raise ReviewError(
            'resume with {"decisions": [{"type": "approve"}]}, [{"type": "edit", '
            '"edited_action": {"name": "post_incident_note", "args": {"text": "..."}}}] or '
            f'[{{"type": "reject", "message": "..."}}]: {exc.errors()[0]["msg"]}'
        ) from None
    approval_id = response.approval_id or uuid.uuid4().hex[:16]
    decision = response.decisions[0]
    original = request["action_requests"][0]["args"]
    if isinstance(decision, _Reject):
        return Decision(
            decision="reject", text=None, message=decision.message, approval_id=approval_id
        )
    if isinstance(decision, _Approve):
        return Decision(
            decision="approve", text=original["text"], message=None, approval_id=approval_id
        )
    edited = decision.edited_action.args
    text = edited.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ReviewError('an edit needs a non-empty "text" in edited_action.args')
    changed = sorted(k for k in edited if k != "text" and edited[k] != original.get(k))
    if changed:
        raise ReviewError(f"an edit may change only the text, not {', '.join(changed)}")
    return Decision(decision="approve", text=text, message=None, approval_id=approval_id)


def response_for(
    decision: Literal["approve", "reject"], text: str | None, approval_id: str | None
) -> dict[str, Any]:
    """The resume value for a decision taken through the responder (page, API, CLI): an
    approval with ``text`` is an edit; a rejection's ``text`` is its reason."""
    if decision == "reject":
        verdict: dict[str, Any] = {"type": "reject"}
        if text:
            verdict["message"] = text
    elif text is None:
        verdict = {"type": "approve"}
    else:
        verdict = {"type": "edit", "edited_action": {"name": ACTION, "args": {"text": text}}}
    return {"decisions": [verdict]} | ({"approval_id": approval_id} if approval_id else {})
