"""Tenancy for the Django admin: a mixin that scopes every admin to the user's companies/stores.

Who may use the admin (decided here; docs/admin.md has the table):

* **superuser** — everything, every company.
* **company admin** (``Membership.role == "admin"``, no store) — ``is_staff``; sees and edits
  every row of their company and of all its stores; may edit the company itself (fiscal data),
  its stores, registers, series and memberships, and what other apps grant them below.
* **store manager** (``role == "manager"``) — ``is_staff``; sees the company-wide rows of their
  company (catalogue, company) read-only, and sees and edits the rows of their own stores
  (prices, registers, store memberships).
* **cashier** — no admin access (``is_staff`` stays false); cashiers work in ``/pos/``.

What each role may do per model comes from two Django groups kept in sync by
:func:`membership_staff_sync` (``STAFF_GROUP_PERMISSIONS``); *which rows* comes from
:class:`TenantScopedAdmin`. "Not yours" and "does not exist" look the same: a row outside the
user's scope is simply absent from the queryset, so its change page answers like a missing one.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group, Permission
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from .models import Company, Membership, Role, Store

COMPANY_ADMIN_GROUP = "Administradores de empresa"
STORE_MANAGER_GROUP = "Administradores de tienda"

# Model permissions per staff group, as "app_label.codename". Models that do not exist (yet)
# are skipped, so the list may name models other apps add later.
STAFF_GROUP_PERMISSIONS: dict[str, tuple[str, ...]] = {
    COMPANY_ADMIN_GROUP: (
        "stores.view_company",
        "stores.change_company",
        "stores.view_store",
        "stores.add_store",
        "stores.change_store",
        "stores.view_register",
        "stores.add_register",
        "stores.change_register",
        "stores.view_documentseries",
        "stores.add_documentseries",
        "stores.change_documentseries",
        "stores.view_membership",
        "stores.add_membership",
        "stores.change_membership",
        "stores.delete_membership",
        "stores.view_approverpin",
        "stores.add_approverpin",
        "stores.change_approverpin",
        "stores.view_auditevent",
        "sales.view_product",
        "sales.add_product",
        "sales.change_product",
        "sales.view_storeproduct",
        "sales.add_storeproduct",
        "sales.change_storeproduct",
        "sales.view_stockmovement",
        "sales.add_stockmovement",
        "sales.view_customer",
        "sales.add_customer",
        "sales.change_customer",
        "sales.view_sale",
        "sales.view_saleline",
        "sales.view_payment",
        "sales.view_cashsession",
        "sales.view_cashmovement",
        "sales.view_salereturn",
        "sales.view_salereturnline",
        "sales.view_salevoid",
        "sales.view_refund",
        "sunat.view_sunataccount",
        "sunat.add_sunataccount",
        "sunat.change_sunataccount",
        "sunat.view_sunatdocument",
        "sunat.view_sunatattempt",
        "sunat.view_sunatjob",
        "sunat.change_sunatjob",
    ),
    STORE_MANAGER_GROUP: (
        "stores.view_company",
        "stores.view_store",
        "stores.view_register",
        "stores.view_documentseries",
        "stores.view_membership",
        "stores.add_membership",
        "stores.change_membership",
        "stores.delete_membership",
        "stores.view_auditevent",
        "sales.view_product",
        "sales.view_storeproduct",
        "sales.change_storeproduct",
        "sales.view_stockmovement",
        "sales.add_stockmovement",
        "sales.view_customer",
        "sales.view_sale",
        "sales.view_saleline",
        "sales.view_payment",
        "sales.view_cashsession",
        "sales.view_cashmovement",
        "sales.view_salereturn",
        "sales.view_salereturnline",
        "sales.view_salevoid",
        "sales.view_refund",
        "sunat.view_sunataccount",
        "sunat.view_sunatdocument",
        "sunat.view_sunatattempt",
        "sunat.view_sunatjob",
    ),
}


# -- who manages what ----------------------------------------------------------------------


def admin_company_ids(*, user: AbstractBaseUser) -> QuerySet:
    """Companies whose company-wide rows the user may see in the admin (admins and managers)."""
    return (
        Membership.objects.filter(user=user, role__in=(Role.COMPANY_ADMIN, Role.STORE_MANAGER))
        .values("company_id")
        .distinct()
    )


def admin_owned_company_ids(*, user: AbstractBaseUser) -> QuerySet:
    """Companies the user administers (company admins only)."""
    return Membership.objects.filter(user=user, role=Role.COMPANY_ADMIN).values("company_id")


def admin_store_ids(*, user: AbstractBaseUser) -> QuerySet:
    """Stores whose rows the user may see and edit: every store of an administered company plus
    the stores the user manages."""
    return Store.objects.filter(
        Q(company_id__in=admin_owned_company_ids(user=user))
        | Q(id__in=Membership.objects.filter(user=user, role=Role.STORE_MANAGER).values("store_id"))
    ).values("id")


# -- staff flag and groups -----------------------------------------------------------------


def _group_with_permissions(name: str) -> Group:
    group, _ = Group.objects.get_or_create(name=name)
    wanted = STAFF_GROUP_PERMISSIONS[name]
    by_app: dict[str, list[str]] = {}
    for perm in wanted:
        app_label, codename = perm.split(".", 1)
        by_app.setdefault(app_label, []).append(codename)
    query = Q(pk__in=[])
    for app_label, codenames in by_app.items():
        query |= Q(content_type__app_label=app_label, codename__in=codenames)
    group.permissions.set(Permission.objects.filter(query))
    return group


def staff_groups_refresh(*, using: str = DEFAULT_DB_ALIAS, **_signal) -> None:
    """Give the staff groups that exist exactly their ``STAFF_GROUP_PERMISSIONS`` (``post_migrate``:
    permissions of models added by a release reach the groups at ``migrate``; a group is created
    by the first membership that needs it). Only for the main database."""
    if using != DEFAULT_DB_ALIAS:
        return
    for name in STAFF_GROUP_PERMISSIONS:
        if Group.objects.filter(name=name).exists():
            _group_with_permissions(name)


def membership_staff_sync(*, user: AbstractBaseUser) -> None:
    """Give or take ``is_staff`` and the staff groups from the user's memberships.

    Company admins join :data:`COMPANY_ADMIN_GROUP`, store managers :data:`STORE_MANAGER_GROUP`;
    a user with neither loses both groups and, unless superuser, ``is_staff``. Idempotent; runs
    in its own (or the caller's) transaction.
    """
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    with transaction.atomic():
        wanted = set()
        if Role.COMPANY_ADMIN in roles:
            wanted.add(COMPANY_ADMIN_GROUP)
        if Role.STORE_MANAGER in roles:
            wanted.add(STORE_MANAGER_GROUP)
        for name in (COMPANY_ADMIN_GROUP, STORE_MANAGER_GROUP):
            if name in wanted:
                user.groups.add(_group_with_permissions(name))
            else:
                user.groups.remove(*Group.objects.filter(name=name))
        is_staff = bool(wanted) or user.is_superuser
        if user.is_staff != is_staff:
            user.is_staff = is_staff
            user.save(update_fields=["is_staff"])


# -- the mixin -------------------------------------------------------------------------------


def _field_model(model: type[models.Model], path: str) -> type[models.Model] | None:
    """The model at the end of a ``a__b`` relation path, or None when the path is absent."""
    current = model
    for part in path.split("__"):
        try:
            field = current._meta.get_field(part)
        except Exception:  # FieldDoesNotExist
            return None
        if not field.is_relation:
            return None
        current = field.related_model
    return current


def _is_relation_path(model: type[models.Model], path: str) -> bool:
    """True when ``path`` (``"store"``, ``"product__company"``) ends in a relation field."""
    return _field_model(model, path) is not None


def scope_queryset(
    qs: QuerySet, *, user: AbstractBaseUser, store_field: str | None, company_field: str | None
) -> QuerySet:
    """Rows of ``qs`` that ``user`` may see in the admin.

    With a store path, rows of the user's administered stores (and, for company admins, rows of
    their companies whose store is empty). Otherwise, with a company path, rows of the companies
    the user administers or manages a store of. With neither, nothing (superusers only).
    """
    if user.is_superuser:
        return qs
    if not (user.is_active and user.is_staff):
        return qs.none()
    if store_field:
        condition = Q(**{f"{store_field}__in": admin_store_ids(user=user)})
        if company_field:
            condition |= Q(
                **{f"{store_field}__isnull": True, f"{company_field}__in": admin_owned_company_ids(user=user)}
            )
        return qs.filter(condition).distinct()
    if company_field:
        return qs.filter(**{f"{company_field}__in": admin_company_ids(user=user)})
    return qs.none()


def scope_choices(qs: QuerySet, *, user: AbstractBaseUser, writable: bool = True) -> QuerySet:
    """Scope the choices of a foreign key by the related model's own company/store fields."""
    model = qs.model
    if user.is_superuser:
        return qs
    if model is Company:
        ids = admin_owned_company_ids(user=user) if writable else admin_company_ids(user=user)
        return qs.filter(id__in=ids)
    if model is Store:
        return qs.filter(id__in=admin_store_ids(user=user))
    if model is get_user_model():
        # Users already in the user's companies, and fresh accounts without any membership
        # (created by a superuser for this company). Never superusers.
        return qs.filter(
            Q(memberships__company_id__in=admin_company_ids(user=user)) | Q(memberships__isnull=True),
            is_superuser=False,
        ).distinct()
    names = {f.name for f in model._meta.get_fields()}
    if "store" in names:
        has_company = "company" in names
        return scope_queryset(qs, user=user, store_field="store", company_field="company" if has_company else None)
    if "company" in names:
        ids = admin_owned_company_ids(user=user) if writable else admin_company_ids(user=user)
        return qs.filter(company_id__in=ids)
    return qs


class TenantScopedAdmin(admin.ModelAdmin):
    """A ``ModelAdmin`` that shows and edits only the user's companies' and stores' rows.

    Set ``tenant_store_field`` (a path such as ``"store"`` or ``"sale__store"``) for store-owned
    rows and ``tenant_company_field`` (``"company"``) for company-owned rows; both for rows whose
    store may be empty. Superusers see everything.

    * ``get_queryset`` is scoped, so lists, search, change/delete pages and actions never reach
      another tenant's row (its change page behaves exactly like a missing one);
    * foreign-key and many-to-many choices are scoped to the user's companies/stores;
    * object permissions also check the row's scope; company-wide rows are writable only by
      company admins (store managers see them read-only);
    * on save, a new row's company is filled from its store (or the user's only company) when
      the form does not show it.
    """

    tenant_store_field: str | None = None
    tenant_company_field: str | None = "company"

    # -- rows
    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return scope_queryset(
            super().get_queryset(request),
            user=request.user,
            store_field=self.tenant_store_field,
            company_field=self.tenant_company_field,
        )

    def _in_scope(self, request: HttpRequest, obj: models.Model) -> bool:
        if request.user.is_superuser or obj.pk is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def _company_wide_writable(self, request: HttpRequest, obj: models.Model | None) -> bool:
        """Company-wide rows (no store path) are writable only by their company's admins."""
        if request.user.is_superuser or self.tenant_store_field or not self.tenant_company_field:
            return True
        owned = set(admin_owned_company_ids(user=request.user).values_list("company_id", flat=True))
        if obj is None:
            return bool(owned)
        company_id = _value_at(obj, self.tenant_company_field)
        return company_id in owned

    # -- permissions
    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and (obj is None or self._in_scope(request, obj))

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return (
            super().has_change_permission(request, obj)
            and (obj is None or self._in_scope(request, obj))
            and self._company_wide_writable(request, obj)
        )

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return (
            super().has_delete_permission(request, obj)
            and (obj is None or self._in_scope(request, obj))
            and self._company_wide_writable(request, obj)
        )

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return super().has_add_permission(request, *args) and self._company_wide_writable(request, None)

    # -- filters
    def get_list_filter(self, request: HttpRequest):
        """Relation filters list only related rows that occur in the user's scoped queryset
        (``RelatedOnlyFieldListFilter``), so the sidebar never names another tenant's stores."""
        filters = super().get_list_filter(request)
        if request.user.is_superuser:
            return filters
        scoped = []
        for item in filters:
            if isinstance(item, str) and _is_relation_path(self.model, item):
                scoped.append((item, admin.RelatedOnlyFieldListFilter))
            else:
                scoped.append(item)
        return scoped

    # -- choices
    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_choices(formfield.queryset, user=request.user)
        return formfield

    def formfield_for_manytomany(self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any):
        formfield = super().formfield_for_manytomany(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_choices(formfield.queryset, user=request.user)
        return formfield

    # -- forms
    def get_form(self, request: HttpRequest, obj: models.Model | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class TenantForm(form):
            """Derives the hidden company from the store before validation, and validates the
            constraints that involve company/store even when those are not form fields."""

            def _post_clean(self) -> None:
                store = self.cleaned_data.get("store") if "store" in self.fields else None
                if store is not None and hasattr(self.instance, "company_id") and isinstance(store, Store):
                    self.instance.company_id = store.company_id
                _fill_company(self.instance, user)
                super()._post_clean()

            def _get_validation_exclusions(self):
                exclude = super()._get_validation_exclusions()
                for name in ("company", "store"):
                    if name in exclude and getattr(self.instance, f"{name}_id", None):
                        exclude.discard(name)
                return exclude

        TenantForm.__name__ = form.__name__
        return TenantForm

    # -- saving
    def save_model(self, request: HttpRequest, obj: models.Model, form, change: bool) -> None:
        _fill_company(obj, request.user)
        super().save_model(request, obj, form, change)


def _value_at(obj: models.Model, path: str) -> Any:
    """The primary key at the end of a relation path (``"company"`` → ``obj.company_id``)."""
    if path == "pk":
        return obj.pk
    parts = path.split("__")
    current: Any = obj
    for part in parts[:-1]:
        current = getattr(current, part, None)
        if current is None:
            return None
    return getattr(current, f"{parts[-1]}_id", None)


def _fill_company(obj: models.Model, user: AbstractBaseUser) -> None:
    """Fill an empty ``company`` from the row's store, or from the user's only company."""
    names = {f.name for f in obj._meta.concrete_fields}
    if "company" not in names or getattr(obj, "company_id", None):
        return
    store = getattr(obj, "store", None) if "store" in names else None
    if store is not None:
        obj.company_id = store.company_id
        return
    owned = list(admin_owned_company_ids(user=user).values_list("company_id", flat=True)[:2])
    if len(owned) == 1:
        obj.company_id = owned[0]


class TenantScopedInline(admin.TabularInline):
    """Inline whose foreign-key choices are scoped like :class:`TenantScopedAdmin`'s."""

    def formfield_for_foreignkey(self, db_field: models.ForeignKey, request: HttpRequest, **kwargs: Any):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if formfield is not None and hasattr(formfield, "queryset"):
            formfield.queryset = scope_choices(formfield.queryset, user=request.user)
        return formfield
