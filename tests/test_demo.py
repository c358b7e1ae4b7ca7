"""The demo seeding hook: every seeder runs once, and what it makes is consistent."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select, text

from disclosure import bsi_validator
from vulnops import demo
from vulnops.audit import service as audit
from vulnops.auth import service
from vulnops.auth.models import User
from vulnops.bounty import ledger, reconcile, reputation
from vulnops.bounty.models import BountyAward, BountyDispute, BountyRetest
from vulnops.cases import service as cases
from vulnops.cases.models import Case
from vulnops.cases.states import Milestone, derive_state
from vulnops.db.database import Database
from vulnops.disclosure import service as disclosure
from vulnops.intake.models import Report
from vulnops.review import metrics
from vulnops.review.schemas_metrics import MetricsFilter
from vulnops.settings import Settings, get_settings
from vulnops.variants import classes


async def _count(db: Database, model: type) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_the_demo_seeds_once_and_shows_every_stage(db: Database) -> None:
    first = await demo.seed(db)
    roles = {role for role, _, _ in first.credentials}
    assert {"admin", "responder", "researcher", "customer"} <= roles
    users, reports, cases = await _count(db, User), await _count(db, Report), await _count(db, Case)
    assert reports >= 20 and cases >= 8

    again = await demo.seed(db)
    assert again.credentials == []
    assert (await _count(db, User), await _count(db, Report), await _count(db, Case)) == (
        users,
        reports,
        cases,
    )
    async with db.session() as session:
        states = set(await session.scalars(select(Case.state)))
        sources = set(await session.scalars(select(Report.source)))
        overdue = await session.scalar(
            select(func.count()).select_from(Case).where(Case.next_due <= func.now())
        )
        chain = await audit.verify(session)
    assert {"new", "triaging", "remediating", "deploying", "mitigated", "closed"} <= states
    # The demo's own reports, and the generated year of history behind the dashboard.
    assert sources == {"researcher", "internal", "scanner", "partner", "detection"}
    assert overdue and overdue >= 1
    assert chain.ok


async def test_the_demo_has_a_sent_advisory_contoso_can_read_ask_about_and_a_draft_to_approve(
    db: Database,
) -> None:
    await demo.seed(db)
    async with db.session() as session:
        versions = dict(
            (await session.execute(text("SELECT title, status FROM advisory_versions"))).all()
        )
        contoso_sees = await session.scalar(
            text(
                "SELECT count(*) FROM advisory_recipients r JOIN tenants t ON t.id = r.tenant_id "
                "WHERE t.key = 'contoso'"
            )
        )
        feedback = await session.scalar(text("SELECT count(*) FROM advisory_feedback"))
        channels = set(await session.scalars(text("SELECT DISTINCT channel FROM deliveries")))
        conversations = (
            await session.execute(
                text(
                    "SELECT t.key, v.messages, v.waiting_since FROM advisory_conversations v "
                    "JOIN tenants t ON t.id = v.tenant_id"
                )
            )
        ).all()
        contoso_reads = (
            await session.execute(
                text(
                    "SELECT t.language, t.time_zone, array_agg(DISTINCT d.language) "
                    "FROM tenants t JOIN deliveries d ON d.tenant_id = t.id "
                    "JOIN advisory_versions v ON v.id = d.version_id "
                    "WHERE t.key = 'contoso' AND v.title LIKE 'Image import%' GROUP BY 1, 2"
                )
            )
        ).one()
        question = await session.scalar(
            text("SELECT body FROM advisory_messages WHERE NOT from_staff")
        )
        marks = [
            tuple(m)
            for m in await session.execute(
                text(
                    "SELECT r.external_id, m.status FROM advisory_resource_marks m "
                    "JOIN resources r ON r.id = m.resource_id"
                )
            )
        ]
    assert set(versions.values()) == {"sent", "draft"}
    # Contoso reads French: its administrator asked one question, in French, and it was
    # answered; the storage advisory reached it in its approved French translation.
    assert [tuple(c) for c in conversations] == [("contoso", 2, None)]
    assert tuple(contoso_reads) == ("fr", "Europe/Paris", ["fr"])
    assert question and question.startswith("Nos journaux")
    assert marks == [("contoso-images-0", "checked")]
    # The storage SSRF advisory and the role-import one (its customers must act).
    assert contoso_sees == 2 and feedback and feedback >= 3
    assert channels == {"email", "webhook"}


async def test_the_demo_has_public_advisories_with_and_without_a_cve(db: Database) -> None:
    await demo.seed(db)
    async with db.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT d.cve_id, c.state FROM disclosures d JOIN cases c ON c.id = d.case_id "
                    "WHERE d.disclosed_at IS NOT NULL AND d.public_from <= now()"
                )
            )
        ).all()
    assert sorted((cve or "", state) for cve, state in rows) == [
        ("", "disclosed"),
        ("CVE-2026-31337", "disclosed"),
    ]
    settings = Settings(cna_org_id="7c4e5a7e-0b0a-4c1e-9b0f-3f2a1d4c5b6a")
    async with db.session() as session:
        case_id = await session.scalar(
            text("SELECT case_id FROM disclosures WHERE cve_id = 'CVE-2026-31337'")
        )
        document, problems = await disclosure.cve_record(
            session, case_id=case_id, cve_id=None, settings=settings
        )
        csaf_documents = [
            await disclosure.csaf_document(
                session, case_id=case_id, category=category, settings=settings
            )
            for category in ("csaf_security_advisory", "csaf_vex")
        ]
        published, public_from = (
            await session.execute(
                text("SELECT cve_published_at, public_from FROM disclosures WHERE case_id = :c"),
                {"c": case_id},
            )
        ).one()
    assert problems == []  # the demo's published CVE has a valid record
    # Found: datePublished was the export's time, and there was no datePublic.
    assert document["cveMetadata"]["datePublished"] == published.isoformat()
    cna = document["containers"]["cna"]
    assert datetime.fromisoformat(cna["datePublic"]) >= public_from
    times = [datetime.fromisoformat(entry["time"]) for entry in cna["timeline"]]
    # Found: "Case opened" came after "Fix deployed", and the customers' notification was
    # missing (an administrator's override stood in for it).
    assert times == sorted(times)
    assert [entry["value"] for entry in cna["timeline"]] == [
        "Reported",
        "Fix deployed",
        "Affected customers notified",
        "Advisory published",
    ]
    # Found: both of its CSAF documents failed the BSI validator's mandatory test 6.1.11.
    bsi_validator.assert_passes(*csaf_documents)


async def test_every_demo_case_has_the_state_its_milestones_give(db: Database) -> None:
    await demo.seed(db)
    async with db.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT c.title, c.state, array_agg(m.milestone) FROM cases c "
                    "JOIN case_milestones m ON m.case_id = c.id GROUP BY c.id"
                )
            )
        ).all()
        cases = await session.scalar(text("SELECT count(*) FROM cases"))
    assert len(rows) == cases
    for title, state, reached in rows:
        assert derive_state({Milestone(m) for m in reached}).value == state, title
    ssrf = next(set(reached) for title, _, reached in rows if "SSRF" in title)
    # The showcase: everything up to an approved disclosure, public once the live rollout
    # ran and the demo's ten-minute embargo ended.
    assert {
        "reported",
        "acknowledged",
        "triaged",
        "fix_ready",
        "deployment_started",
        "customers_notified",
        "disclosure_approved",
    } <= ssrf
    assert "public" not in ssrf


async def test_the_demo_has_one_restricted_case_its_team_sees_and_nobody_else(
    db: Database,
) -> None:
    await demo.seed(db)
    async with db.session() as session:
        restricted = list(await session.scalars(select(Case).where(Case.restricted)))
        assert [case.rating for case in restricted] == ["critical"]
        people = {
            user.email: service.principal_of(user, via="session")
            for user in await session.scalars(select(User))
        }
        seen = {
            email: (await cases.list_cases(session, viewer=principal, now=datetime.now(UTC))).total
            for email, principal in people.items()
            if principal.is_staff
        }
    total = max(seen.values())
    inside = {"responder@vulnops.example", "engineer@vulnops.example", "comms@vulnops.example"}
    assert {email for email, count in seen.items() if count == total} == inside
    assert {email for email, count in seen.items() if count == total - 1} == set(seen) - inside


async def test_the_demo_pages_the_on_call_for_its_critical_cases(db: Database) -> None:
    """Its follow-the-sun schedule and default policy are imported before the reports, so a
    case rated critical pages, through the policy as it was."""
    await demo.seed(db)
    async with db.session() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT c.rating, p.urgency, p.policy->>'key' FROM pages p "
                    "JOIN cases c ON c.id = p.case_id"
                )
            )
        ).all()
        schedules = await session.scalar(text("SELECT count(*) FROM oncall_schedules"))
    assert schedules == 1
    assert ("critical", "high", "security") in {tuple(row) for row in rows}
    assert all(rating in ("critical", "important") for rating, _, _ in rows)


async def test_the_demo_has_a_bounty_award_paid_and_one_waiting_for_approval(
    db: Database,
) -> None:
    """And a retest paid, a duplicate's closure disputed, a researcher in the hall of fame."""
    await demo.seed(db)
    async with db.session() as session:
        awards = (await session.scalars(select(BountyAward).order_by(BountyAward.id))).all()
        assert [(a.status, a.program) for a in awards] == [
            ("approved", "cloud"),
            ("pending_approval", "cloud"),
        ]
        assert awards[1].amount > get_settings().bounty_approval_above
        owed = await ledger.balance(
            session, researcher_id=int(next(iter(awards[0].split))), currency="USD"
        )
        retest = await session.scalar(select(BountyRetest))
        assert retest is not None and retest.status == "fixed"
        assert (owed.available, owed.paid) == (retest.amount, awards[0].amount)
        assert (await reconcile.reconcile(session)).ok
        dispute = await session.scalar(select(BountyDispute))
        assert dispute is not None and dispute.status == "open"
        disputed = await session.get(Report, dispute.report_id)
        assert disputed is not None and disputed.close_reason == "duplicate"
        famed = await reputation.leaderboard(session, period="all", limit=5, public=True)
        assert [one.name for one in famed] == ["Ada L."]
        assert famed[0].points > 0


async def test_the_demo_ssrf_case_has_a_root_cause_a_finished_hunt_and_a_variant(
    db: Database,
) -> None:
    await demo.seed(db)
    async with db.session() as session:
        case_id = (
            (
                await cases.list_cases(
                    session, viewer=None, now=datetime.now(UTC), search="SSRF image importer"
                )
            )
            .items[0]
            .id
        )
        cause = await session.scalar(
            text("SELECT cwe_id FROM root_causes WHERE case_id = :c"), {"c": case_id}
        )
        hunt = (
            await session.execute(
                text("SELECT id, strategy, state FROM hunts WHERE case_id = :c"), {"c": case_id}
            )
        ).one()
        decided = dict(
            (
                await session.execute(
                    text(
                        "SELECT state, count(*) FROM hunt_findings WHERE hunt_id = :h "
                        "GROUP BY state"
                    ),
                    {"h": hunt.id},
                )
            ).all()
        )
        variants = await session.scalar(
            text("SELECT count(*) FROM case_links WHERE parent_id = :c AND relation = 'variant'"),
            {"c": case_id},
        )
        shown = await classes.show(session, cwe_id=918, viewer=None, today=datetime.now(UTC).date())
    assert cause == 918
    assert (hunt.strategy, hunt.state) == ("code", "finished")
    assert decided == {"duplicate": 1, "variant": 1, "not_a_problem": 1}
    assert variants == 1
    assert shown.state == "open" and shown.open_variants == 1
    assert shown.improvements_done == 1 and shown.improvements_open == 1


async def test_the_demo_has_two_published_reviews_and_a_year_of_history(db: Database) -> None:
    await demo.seed(db)
    now = datetime.now(UTC)
    async with db.session() as session:
        published = (
            await session.execute(
                text(
                    "SELECT c.title, r.published_by, r.record -> 'customers' AS customers, "
                    "(SELECT count(*) FROM review_action_items a WHERE a.case_id = r.case_id "
                    " AND a.done_at IS NULL AND a.due < current_date) AS overdue "
                    "FROM reviews r JOIN cases c ON c.id = r.case_id "
                    "WHERE r.state = 'published' AND r.published_by = 'comms@vulnops.example' "
                    "ORDER BY c.title"
                )
            )
        ).all()
        program = await metrics.program(session, viewer=None, given=MetricsFilter(), now=now)
        history = await session.scalar(
            text(
                "SELECT count(*) FROM reviews WHERE state = 'published' AND started_by = 'history'"
            )
        )
    assert [(r.title, r.overdue) for r in published] == [
        ("Cross-tenant read of backup policies", 1),
        ("Organisation owner through role import", 0),
    ]
    # The role-import review carries what its customers answered: 36 of the Identity tenants
    # acknowledged the advisory, every third of them rated it with a comment.
    customers = published[1].customers
    assert customers["acknowledged"] == 36 and sum(customers["ratings"]) == 12
    assert customers["ratings"] == [0, 3, 0, 6, 3]
    assert len(customers["comments"]) == 12
    assert history == 24
    assert program.cases >= 600
    assert len([m for m in program.cases_by_month if m.count > 0]) >= 10
    assert program.action_items.overdue >= 1
