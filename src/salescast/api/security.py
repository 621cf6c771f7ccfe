"""Admin authentication: a bearer token from the settings, required when it is set."""

from __future__ import annotations

import secrets

from fastapi import Header, HTTPException, Request, status


def require_admin(request: Request, authorization: str | None = Header(default=None)) -> None:
    """Reject the request with 401 unless it carries ``Authorization: Bearer <SALESCAST_ADMIN_TOKEN>``."""
    token = request.app.state.settings.admin_token
    if not token:
        return
    scheme, _, supplied = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(supplied.strip().encode(), token.encode()):
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="admin endpoint: send the header 'Authorization: Bearer <SALESCAST_ADMIN_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
