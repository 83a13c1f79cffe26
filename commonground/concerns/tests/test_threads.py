"""Discussion threads: who posts and edits, mentions that reveal nobody, edits that keep
their history and never overwrite silently, PHI refused, closed threads read-only, and a
thread read in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from commonground.audit.models import AuditEvent
from commonground.concerns.mentions import MAX_MENTIONS, find_mentions
from commonground.concerns.models import Comment, CommentRevision, Concern, Status
from commonground.concerns.services import threads as services
from commonground.notifications.models import Notification

HTMX = {"HTTP_HX_REQUEST": "true"}


def _concern(world, *, committee=None, mode="named", raiser=None, status=Status.RAISED):
    raiser = None if mode == "anonymous" else (raiser or world.person("clinician_a"))
    return Concern.objects.create(
        committee=committee or world.ppc_a,
        title="Return visits are booked six weeks out",
        description="Follow-ups are offered after 30 business days.",
        category="access",
        patient_impact="Long gaps between sessions.",
        identity_mode=mode,
        raised_by=raiser,
        raiser_side="clinician" if raiser else "",
        raised_on=dt.date(2026, 11, 2),
        acknowledge_by=dt.date(2026, 11, 9),
        respond_by=dt.date(2026, 12, 1),
        not_a_grievance=True,
        status=status,
    )


def _post_url(concern):
    return reverse("concerns:comment-post", args=[concern.pk])


def _edit_url(comment):
    return reverse("concerns:comment-edit", args=[comment.pk])


# --- the mention parser -------------------------------------------------------------------


def test_mentions_are_found_once_each_in_order_and_lower_cased():
    text = "Thanks @Carmen.Reyes and @omar.haddad; @carmen.reyes again."
    assert find_mentions(text) == ["carmen.reyes", "omar.haddad"]


def test_punctuation_after_a_mention_is_not_part_of_the_name():
    assert find_mentions("Ask @ruth.jackson. Then @diego-, or (@maria.chen)!") == [
        "ruth.jackson",
        "diego",
        "maria.chen",
    ]


def test_addresses_lone_at_signs_and_code_are_not_mentions():
    text = (
        "Write to team@example.org, meet @ 3pm, see `@not.this` and\n"
        "```\n@nor.this\n```\nbut @this.one"
    )
    assert find_mentions(text) == ["this.one"]


def test_mentions_stop_at_the_limit():
    text = " ".join(f"@person{i}" for i in range(MAX_MENTIONS + 5))
    assert len(find_mentions(text)) == MAX_MENTIONS
    assert find_mentions("") == []


# --- who may post, edit and read ---------------------------------------------------------


def test_everyone_with_a_seat_posts_observers_included(world, login):
    concern = _concern(world)
    for key in ("clinician_a", "manager_a", "union_rep_a", "cochair_manager_a"):
        person = world.person(key)
        response = login(person).post(_post_url(concern), {"body": f"From {key}"})
        assert response.status_code == 302, key
        comment = Comment.objects.get(body=f"From {key}")
        assert comment.author == person
    assert Comment.objects.get(body="From union_rep_a").author_side == "clinician"
    assert Comment.objects.get(body="From manager_a").author_side == "management"


def test_viewers_without_a_seat_read_but_do_not_post(world, ada, login):
    concern = _concern(world)
    services.comment_post(actor=world.person("clinician_a"), concern=concern, body="Hello")
    client = login(ada)  # a regional admin sees every clinic's concerns, with no seat there
    page = client.get(concern.get_absolute_url()).content.decode()
    assert "Hello" in page and "People with a seat on the committee post here." in page
    assert 'name="body"' not in page
    assert client.post(_post_url(concern), {"body": "Hi"}).status_code == 403


def test_other_clinics_and_people_without_seats_get_404(world, login):
    concern = _concern(world)
    for key in ("clinician_b", "no_seat"):
        assert login(world.person(key)).post(_post_url(concern), {"body": "x"}).status_code == 404
    assert not Comment.objects.exists()


def test_once_escalated_the_receiving_committee_posts(world, login):
    concern = _concern(world)
    farah = world.person("regional_cochair_clinician")
    assert login(farah).post(_post_url(concern), {"body": "Before"}).status_code == 404
    concern.status, concern.escalated_to = Status.ESCALATED, world.regional
    concern.save()
    assert login(farah).post(_post_url(concern), {"body": "After"}).status_code == 302
    assert Comment.objects.get().author_side == "clinician"


def test_only_the_author_edits(world, carmen, diego, login):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="Mine")
    response = login(diego).post(_edit_url(comment), {"body": "Not yours", "version": 1})
    assert response.status_code == 403
    comment.refresh_from_db()
    assert comment.body == "Mine" and comment.version == 1


def test_a_closed_concern_keeps_its_thread_read_only(world, carmen, login):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="Said before closing")
    concern.status = Status.CLOSED
    concern.save()
    client = login(carmen)
    page = client.get(concern.get_absolute_url()).content.decode()
    assert "Said before closing" in page
    assert "This concern is closed" in page
    assert 'name="body"' not in page
    assert client.post(_post_url(concern), {"body": "Late"}).status_code == 403
    assert client.post(_edit_url(comment), {"body": "Changed", "version": 1}).status_code == 403
    with pytest.raises(ValidationError, match="closed"):
        services.comment_post(actor=carmen, concern=concern, body="Late")
    assert Comment.objects.count() == 1


# --- posting and replying -----------------------------------------------------------------


def test_posting_without_javascript_redirects_to_the_comment(world, carmen, login):
    concern = _concern(world)
    response = login(carmen).post(_post_url(concern), {"body": "**Bold** idea"})
    comment = Comment.objects.get()
    assert response["Location"] == f"{concern.get_absolute_url()}#comment-{comment.pk}"
    page = login(carmen).get(concern.get_absolute_url()).content.decode()
    assert "<strong>Bold</strong> idea" in page


def test_posting_with_htmx_answers_the_thread_fragment(world, carmen, login):
    concern = _concern(world)
    response = login(carmen).post(_post_url(concern), {"body": "Swapped in"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="thread"' in html and "Swapped in" in html and "<html" not in html
    assert "Comment posted." in html


def test_markdown_in_comments_is_sanitised(world, carmen, login):
    concern = _concern(world)
    services.comment_post(
        actor=carmen, concern=concern, body="<script>alert(1)</script> [x](javascript:alert(1))"
    )
    html = login(carmen).get(concern.get_absolute_url()).content.decode()
    assert "<script>alert(1)" not in html and 'href="javascript:' not in html


def test_a_reply_to_a_reply_attaches_to_the_top_level_comment(world, carmen, diego, ruth, login):
    concern = _concern(world)
    top = services.comment_post(actor=carmen, concern=concern, body="Top")
    reply = services.comment_post(actor=diego, concern=concern, body="Reply", parent_id=top.pk)
    login(ruth).post(_post_url(concern), {"body": "Deeper", "parent": str(reply.pk)})
    assert Comment.objects.get(body="Deeper").parent == top
    assert reply.parent == top


def test_a_reply_must_belong_to_the_same_concern(world, carmen):
    here, elsewhere = _concern(world), _concern(world)
    other = services.comment_post(actor=carmen, concern=elsewhere, body="Elsewhere")
    with pytest.raises(ValidationError, match="not in this discussion"):
        services.comment_post(actor=carmen, concern=here, body="Reply", parent_id=other.pk)


def test_patient_identifiers_block_a_comment_and_keep_the_text(world, carmen, login):
    concern = _concern(world)
    client = login(carmen)
    response = client.post(_post_url(concern), {"body": "Client MRN 12345678 waited"})
    html = response.content.decode()
    assert response.status_code == 422
    assert "patient information (medical record number)" in html
    assert "Client MRN 12345678 waited" in html
    response = client.post(_post_url(concern), {"body": "Call 510-555-0199"}, **HTMX)
    assert response.status_code == 200 and "phone number" in response.content.decode()
    assert not Comment.objects.exists()


def test_patient_identifiers_block_an_edit(world, carmen):
    comment = services.comment_post(actor=carmen, concern=_concern(world), body="Fine")
    with pytest.raises(ValidationError, match="patient information"):
        services.comment_edit(actor=carmen, comment=comment, body="SSN 123-45-6789", version=1)
    comment.refresh_from_db()
    assert comment.body == "Fine" and not CommentRevision.objects.exists()


def test_posts_and_edits_are_audited_with_the_version_not_the_text(world, carmen):
    comment = services.comment_post(actor=carmen, concern=_concern(world), body="Secret words")
    services.comment_edit(actor=carmen, comment=comment, body="Other words", version=1)
    events = list(AuditEvent.objects.filter(object_type="concerns.comment").order_by("id"))
    assert [(e.action, e.actor_id, e.changes["version"]) for e in events] == [
        ("create", carmen.pk, 1),
        ("update", carmen.pk, 2),
    ]
    assert all("words" not in str(e.changes) + e.object_repr for e in events)


# --- edits: history and conflicts ---------------------------------------------------------


def test_an_edit_keeps_the_earlier_text_and_shows_edited(world, carmen, ruth, login):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="First text")
    response = login(carmen).post(_edit_url(comment), {"body": "Withdrawn", "version": 1})
    assert response.status_code == 302
    comment.refresh_from_db()
    assert (comment.body, comment.version) == ("Withdrawn", 2)
    assert comment.edited_at is not None
    revision = CommentRevision.objects.get()
    assert (revision.version, revision.body, revision.written_at) == (
        1,
        "First text",
        comment.created_at,
    )
    # Anyone who may view the concern reads the history.
    client = login(ruth)
    page = client.get(concern.get_absolute_url()).content.decode()
    history_url = reverse("concerns:comment-history", args=[comment.pk])
    assert "edited" in page and history_url in page
    history = client.get(history_url)
    assert history.status_code == 200
    assert "First text" in history.content.decode() and "Withdrawn" in history.content.decode()
    fragment = client.get(history_url, **HTMX).content.decode()
    assert "First text" in fragment and "<html" not in fragment


def test_a_stale_edit_is_a_409_conflict_not_an_overwrite(world, carmen, login):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="Version one")
    services.comment_edit(actor=carmen, comment=comment, body="Version two", version=1)
    response = login(carmen).post(_edit_url(comment), {"body": "My late edit", "version": 1})
    html = response.content.decode()
    assert response.status_code == 409
    assert "changed after you opened it" in html
    assert "Version two" in html and "My late edit" in html
    comment.refresh_from_db()
    assert (comment.body, comment.version) == ("Version two", 2)
    assert CommentRevision.objects.count() == 1


def test_a_stale_edit_with_htmx_shows_the_conflict_in_the_thread(world, carmen, login):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="Version one")
    services.comment_edit(actor=carmen, comment=comment, body="Version two", version=1)
    response = login(carmen).post(
        _edit_url(comment), {"body": "My late edit", "version": 1}, **HTMX
    )
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful answers
    assert 'id="thread"' in html and "changed after you opened it" in html
    assert "Version two" in html and "My late edit" in html
    assert 'name="version" value="2"' in html


def test_saving_the_same_text_changes_nothing(world, carmen, login):
    comment = services.comment_post(actor=carmen, concern=_concern(world), body="Same")
    login(carmen).post(_edit_url(comment), {"body": "Same", "version": 1})
    comment.refresh_from_db()
    assert comment.version == 1 and comment.edited_at is None
    assert not CommentRevision.objects.exists()


def test_the_service_refuses_a_stale_version(world, carmen):
    comment = services.comment_post(actor=carmen, concern=_concern(world), body="One")
    services.comment_edit(actor=carmen, comment=comment, body="Two", version=1)
    with pytest.raises(services.EditConflict) as conflict:
        services.comment_edit(actor=carmen, comment=comment, body="Three", version=1)
    assert conflict.value.current.body == "Two"


# --- mentions -----------------------------------------------------------------------------


def _mention_notes(person):
    return Notification.objects.filter(recipient=person, kind="mention")


def test_mentions_notify_people_who_may_see_the_concern(world, carmen, omar, ruth):
    concern = _concern(world)
    comment = services.comment_post(
        actor=carmen, concern=concern, body="@Omar.Haddad and @ruth.jackson, thoughts?"
    )
    assert set(comment.mentions.all()) == {omar, ruth}
    note = _mention_notes(omar).get()
    assert note.link.endswith(f"#comment-{comment.pk}")
    assert "Carmen Reyes" in note.subject
    assert _mention_notes(ruth).count() == 1
    assert not _mention_notes(carmen).exists()


def _plain(html, name):
    """The answer without what differs between requests: ids, times, form token, name."""
    html = html.replace(name, "NAME")
    html = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "ID", html)
    html = re.sub(r"<time [^>]*>[^<]*</time>", "TIME", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_unknown_and_unpermitted_names_stay_plain_and_reveal_nothing(world, carmen, login):
    client = login(carmen)
    answers = []
    # No seat anywhere, another clinic's member, and nobody at all.
    for name in ("nell.novak", "kenji.tanaka", "no.such.person"):
        concern = _concern(world)
        response = client.post(_post_url(concern), {"body": f"Ask @{name}"}, **HTMX)
        assert response.status_code == 200
        answers.append(_plain(response.content.decode(), name))
        page = client.get(concern.get_absolute_url()).content.decode()
        assert f"Ask @{name}" in page
    assert not Comment.objects.filter(mentions__isnull=False).exists()
    assert not Notification.objects.filter(kind="mention").exists()
    assert "Mentioned:" not in answers[0]
    assert answers[0] == answers[1] == answers[2]


def test_an_edit_notifies_only_the_newly_mentioned(world, carmen, omar, ruth, diego):
    concern = _concern(world)
    comment = services.comment_post(actor=carmen, concern=concern, body="cc @omar.haddad")
    services.comment_edit(
        actor=carmen, comment=comment, body="cc @omar.haddad @ruth.jackson", version=1
    )
    assert _mention_notes(omar).count() == 1
    assert _mention_notes(ruth).get().dedup_key == f"mention:{comment.pk}:v2"
    # Dropping a name and adding another tells only the new one.
    services.comment_edit(
        actor=carmen, comment=comment, body="cc @ruth.jackson @diego.alvarez", version=2
    )
    assert _mention_notes(omar).count() == 1
    assert _mention_notes(ruth).count() == 1
    assert _mention_notes(diego).count() == 1
    assert set(comment.mentions.all()) == {ruth, diego}


def test_the_form_lists_who_can_be_mentioned(world, carmen, login):
    concern = _concern(world)
    page = login(carmen).get(concern.get_absolute_url()).content.decode()
    assert "Mention someone" in page and "@omar.haddad" in page and "@ruth.jackson" in page
    assert "@kenji.tanaka" not in page and "@nell.novak" not in page


# --- anonymity ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["anonymous", "confidential"])
def test_the_thread_never_marks_the_raiser_and_warns_that_comments_are_named(
    world, carmen, omar, login, mode
):
    concern = _concern(world, mode=mode)
    services.comment_post(actor=carmen, concern=concern, body="More detail from me")
    client = login(omar)
    page = client.get(concern.get_absolute_url()).content.decode()
    thread = page[page.index('id="thread"') :]
    assert "Carmen Reyes" in thread  # a comment is a named post
    assert "raiser" not in thread.lower() and "raised by" not in thread.lower()
    assert "Your comment shows your name." in thread


@pytest.mark.parametrize("mode", ["anonymous", "confidential"])
def test_no_roster_is_printed_on_a_protected_concern_before_anyone_comments(
    world, omar, login, mode
):
    concern = _concern(world, mode=mode)
    page = login(omar).get(concern.get_absolute_url()).content.decode()
    assert "Mention someone" in page
    assert "Carmen" not in page and "carmen.reyes" not in page


def test_named_concerns_need_no_name_warning(world, carmen, login):
    page = login(carmen).get(_concern(world).get_absolute_url()).content.decode()
    assert "Your comment shows your name." not in page


# --- query counts -------------------------------------------------------------------------


def _fill(world, concern, n):
    people = [world.person(k) for k in ("clinician_a", "cochair_clinician_a", "union_rep_a")]
    top = None
    for i in range(n):
        author = people[i % len(people)]
        parent = top.pk if top is not None and i % 3 else None
        comment = services.comment_post(
            actor=author,
            concern=concern,
            body=f"Comment {i} for @omar.haddad",
            parent_id=parent,
        )
        if parent is None:
            top = comment
        if i % 2:
            services.comment_edit(actor=author, comment=comment, body=f"Edited {i}", version=1)


def test_the_thread_reads_in_a_constant_number_of_queries(world, carmen, login):
    small, large = _concern(world), _concern(world)
    _fill(world, small, 2)
    _fill(world, large, 30)
    client = login(carmen)
    client.get(small.get_absolute_url())  # warm the session and caches alike
    counts = []
    for concern in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(concern.get_absolute_url())
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    assert response.content.decode().count('class="card thread-comment"') == 30
