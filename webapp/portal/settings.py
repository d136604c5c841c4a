"""Merchant portal: Settings — the team (members, roles, adding and removing) and, when the Security page exists,
a link to it (password and two-factor).

Routes on the portal blueprint (webapp/portal/__init__.py imports this module). Owners change the team;
webapp/portal/access.py refuses it to everyone else.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from webapp.auth.access import merchant_required
from webapp.domain.errors import DomainError, NotFound
from webapp.domain.team import ROLE_HELP, ROLE_LABELS, MemberRole
from webapp.portal import bp
from webapp.portal.forms import ConfirmForm
from webapp.services import reveal, team

ROLE_CHOICES = [SelectChoice(r.value, f"{ROLE_LABELS[r]} — {ROLE_HELP[r]}") for r in MemberRole]


class MemberForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=MemberRole.VIEWER.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r.value, ROLE_LABELS[r]) for r in MemberRole])


def _page(form: MemberForm, status: int = 200):
    merchant = current_user.merchant
    secret = reveal.take(session.pop("reveal_member", None))
    added = session.pop("added_member", None) if secret else None
    members = team.members(merchant)
    role_forms = {}
    for member in members:
        role_form = RoleForm(prefix=f"member-{member.id}", formdata=None)
        role_form.role.data = team.role_of(member).value
        role_forms[member.id] = role_form
    security = "auth.security" in current_app.view_functions
    return render_template("portal/settings.html", merchant=merchant, members=members, form=form,
                           role_forms=role_forms, roles=ROLE_LABELS, role_of=team.role_of, confirm=ConfirmForm(),
                           new_password=secret, added=added, security=security), status, {"Cache-Control": "no-store"}


@bp.get("/settings")
@merchant_required
def settings():
    return _page(MemberForm(formdata=None))


@bp.post("/settings/team")
@merchant_required
def team_add():
    form = MemberForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        user, password = team.add(current_user.merchant, form.email.data, form.role.data)
    except DomainError as exc:
        form.email.errors.append(exc.message)
        return _page(form, 400)
    session["reveal_member"] = reveal.stash(password)
    session["added_member"] = user.email
    return redirect(url_for("portal.settings"))


@bp.post("/settings/team/<user_id>/role")
@merchant_required
def team_role(user_id: str):
    form = RoleForm(prefix=f"member-{user_id}")
    if not form.validate_on_submit():
        abort(400)
    try:
        user = team.change_role(current_user.merchant, user_id, form.role.data)
    except NotFound:
        abort(404)  # another merchant's member is indistinguishable from a missing one
    except DomainError as exc:
        flash(f"Role not changed: {exc.message}", "error")
    else:
        flash(f"{user.email} is now {ROLE_LABELS[team.role_of(user)].lower()}.", "success")
    return redirect(url_for("portal.settings"))


@bp.post("/settings/team/<user_id>/remove")
@merchant_required
def team_remove(user_id: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        email = team.remove(current_user.merchant, user_id, current_user)
    except NotFound:
        abort(404)
    except DomainError as exc:
        flash(f"Not removed: {exc.message}", "error")
    else:
        flash(f"{email} was removed from the team and can no longer sign in.", "success")
    return redirect(url_for("portal.settings"))
