"""Request and answer bodies of accounts, their log-in and their API tokens."""

from __future__ import annotations

from pydantic import BaseModel, Field, StrictBool

from core.roles import Role

Password = Field(min_length=8, max_length=1000, description="at least 8 characters")
Username = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.@-]+$", description="letters, digits, _ . @ -")


class LoginRequest(BaseModel):
    username: str = Field(max_length=200)
    password: str = Field(max_length=1000)


class UserView(BaseModel):
    id: int
    username: str
    display_name: str | None
    org_unit_id: str
    role: str
    role_label: str | None
    permissions: list[str]


class AccountView(UserView):
    """An account as an administrator sees it."""

    disabled: bool
    locked_until: float | None


class RoleView(BaseModel):
    role: str
    label: str
    permissions: list[str]
    unit_kinds: list[str]


class NewUser(BaseModel):
    username: str = Username
    password: str = Password
    org_unit_id: str = Field(max_length=64)
    role: Role
    display_name: str | None = Field(default=None, max_length=100)


class UserChange(BaseModel):
    display_name: str | None = Field(default=None, max_length=100)
    org_unit_id: str | None = Field(default=None, max_length=64)
    role: Role | None = None
    disabled: StrictBool | None = None
    unlock: StrictBool = Field(default=False, description="lift a lock-out after repeated wrong passwords")


class PasswordReset(BaseModel):
    password: str = Password


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=1000)
    new_password: str = Password


class NewApiToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_in_days: int | None = Field(default=None, ge=1, le=3660, description="none: until revoked")


class ApiTokenView(BaseModel):
    id: int
    name: str
    created_at: float
    expires_at: float | None
    last_used_at: float | None
    revoked_at: float | None


class CreatedApiToken(ApiTokenView):
    token: str = Field(description="shown this once: only its hash is kept")


class LoginResponse(BaseModel):
    token: str
    expires_at: float
    user: UserView
