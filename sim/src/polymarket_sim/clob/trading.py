"""Authenticated routes: API keys (L1), and orders, trades and balances (L2, HMAC-signed)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from decimal import Decimal

from aiohttp import web

from ..addresses import contracts
from ..context import Sim
from . import errors, orders, views
from .auth import ApiKey, AuthError
from .engine import INFINITE_ALLOWANCE, Engine
from .errors import OrderRejected
from .replies import error_reply, json_reply
from .timing import since_received

MAX_UINT256 = str(2**256 - 1)
MAX_CANCELS = 3000

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
AuthedHandler = Callable[[web.Request, ApiKey, str], Awaitable[web.StreamResponse]]


class Trading:
    def __init__(self, sim: Sim, engine: Engine) -> None:
        self.sim = sim
        self.engine = engine

    def add_routes(self, app: web.Application) -> None:
        get, post, delete, l2 = (app.router.add_get, app.router.add_post,
                                 app.router.add_delete, self.l2)
        post("/auth/api-key", self.create_api_key)
        get("/auth/derive-api-key", self.derive_api_key)
        get("/auth/api-keys", l2(self.api_keys))
        delete("/auth/api-key", l2(self.delete_api_key))
        get("/auth/ban-status/closed-only", l2(self.closed_only))
        post("/order", l2(self.post_order))
        post("/orders", l2(self.post_orders))
        delete("/order", l2(self.cancel_order))
        delete("/orders", l2(self.cancel_orders))
        delete("/cancel-all", l2(self.cancel_all))
        delete("/cancel-market-orders", l2(self.cancel_market))
        get("/data/order/{order_id}", l2(self.get_order))
        get("/data/orders", l2(self.open_orders))
        get("/data/trades", l2(self.trades))
        get("/balance-allowance", l2(self.balance_allowance))
        get("/balance-allowance/update", l2(self.update_balance_allowance))

    # --- plumbing ----------------------------------------------------------------------------

    def l2(self, handler: AuthedHandler) -> Handler:
        """Wrap a handler that needs an HMAC-signed (L2) request; it gets the key and raw body."""

        async def authenticated(request: web.Request) -> web.StreamResponse:
            body = await request.text()
            try:
                api_key = self.engine.api_keys.level2(
                    request.headers, request.method, request.rel_url.raw_path, body)
            except AuthError as exc:
                return error_reply(str(exc), 401)
            return await handler(request, api_key, body)

        return authenticated

    # --- API keys (L1) --------------------------------------------------------------------------

    async def create_api_key(self, request: web.Request) -> web.Response:
        try:
            address, nonce = self.engine.api_keys.level1(request.headers)
        except AuthError as exc:
            return error_reply(str(exc), 401)
        api_key = self.engine.api_keys.create(address, nonce)
        if api_key is None:
            return error_reply(errors.COULD_NOT_CREATE_KEY)
        return json_reply(api_key.creds())

    async def derive_api_key(self, request: web.Request) -> web.Response:
        try:
            address, nonce = self.engine.api_keys.level1(request.headers)
        except AuthError as exc:
            return error_reply(str(exc), 401)
        api_key = self.engine.api_keys.derive(address, nonce)
        if api_key is None:
            return error_reply(errors.COULD_NOT_DERIVE_KEY)
        return json_reply(api_key.creds())

    async def api_keys(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        return json_reply({"apiKeys": self.engine.api_keys.keys_of(key.address)})

    async def delete_api_key(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        self.engine.api_keys.delete(key)
        return web.Response(text="OK")

    async def closed_only(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        return json_reply({"closed_only": self.sim.geoblock.close_only})

    # --- orders (L2) --------------------------------------------------------------------------

    def _submit(self, payload: object, key: ApiKey) -> dict:
        post = orders.parse_post(payload)
        return views.post_result(self.engine.submit(post, key))

    async def post_order(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        try:
            result = self._submit(json.loads(body), key)
            reply = json_reply(result)
            self.sim.order_seconds[result["orderID"]] = since_received()
            return reply
        except OrderRejected as exc:
            return error_reply(exc.message, exc.status)
        except ValueError:  # not JSON
            return error_reply(errors.INVALID_PAYLOAD)

    async def post_orders(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        try:
            payloads = json.loads(body)
        except ValueError:
            return error_reply(errors.INVALID_PAYLOAD)
        if not isinstance(payloads, list) or not payloads:
            return error_reply(errors.INVALID_PAYLOAD)
        if len(payloads) > errors.MAX_BATCH:
            return error_reply(errors.too_many_orders(len(payloads)))
        results = []
        for payload in payloads:
            try:
                results.append(self._submit(payload, key))
            except OrderRejected as exc:
                results.append(views.post_error(exc.message))
        return json_reply(results)

    def _cancel_reply(self, canceled: list[str], not_canceled: dict[str, str]) -> web.Response:
        return json_reply({"canceled": canceled, "not_canceled": not_canceled})

    async def cancel_order(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        try:
            order_id = json.loads(body).get("orderID")
        except (ValueError, AttributeError):
            return error_reply(errors.INVALID_PAYLOAD)
        if not isinstance(order_id, str) or not order_id.startswith("0x"):
            return error_reply(errors.INVALID_ORDER_ID)
        return self._cancel_reply(*self.engine.cancel([order_id], key.address))

    async def cancel_orders(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        try:
            order_ids = json.loads(body)
        except ValueError:
            return error_reply(errors.INVALID_PAYLOAD)
        if not isinstance(order_ids, list):
            return error_reply(errors.INVALID_PAYLOAD)
        if len(order_ids) > MAX_CANCELS:
            return error_reply(f"Too many orders in payload, max allowed: {MAX_CANCELS}")
        if not all(isinstance(i, str) and i.startswith("0x") for i in order_ids):
            return error_reply(errors.INVALID_ORDER_ID)
        return self._cancel_reply(*self.engine.cancel(order_ids, key.address))

    async def cancel_all(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        return self._cancel_reply(self.engine.cancel_where(key.address), {})

    async def cancel_market(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        try:
            params = json.loads(body) if body else {}
        except ValueError:
            return error_reply(errors.INVALID_PAYLOAD)
        if not isinstance(params, dict):
            return error_reply(errors.INVALID_PAYLOAD)
        canceled = self.engine.cancel_where(key.address, params.get("market") or None,
                                            params.get("asset_id") or None)
        return self._cancel_reply(canceled, {})

    async def get_order(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        order_id = request.match_info["order_id"]
        if not order_id.startswith("0x"):
            return error_reply(errors.INVALID_ORDER_ID)
        order = self.engine.get_order(order_id)
        if order is None or order.user != key.address.lower():
            return json_reply(None)
        return json_reply(views.order(order))

    async def open_orders(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        query = request.query
        market, asset_id, order_id = query.get("market"), query.get("asset_id"), query.get("id")
        selected = [
            views.order(o) for o in self.engine.open_orders(address=key.address)
            if o.user == key.address.lower()
            and (not market or o.market == market)
            and (not asset_id or o.token_id == asset_id)
            and (not order_id or o.order_id == order_id)
        ]
        page = views.page(selected, query.get("next_cursor"))
        return json_reply(page) if page is not None else error_reply(errors.INVALID_ORDER_PARAMS)

    async def trades(self, request: web.Request, key: ApiKey, body: str) -> web.Response:
        query = request.query
        try:
            after = int(query["after"]) if query.get("after") else None
            before = int(query["before"]) if query.get("before") else None
        except ValueError:
            return error_reply(errors.INVALID_TRADE_PARAMS)
        user = key.address.lower()
        wanted_maker = (query.get("maker_address") or "").lower()
        selected = []
        # newest first: a trade arriving mid-pagination repeats one on the next page, hides none
        for match in self.engine.trades_of(user):
            when = int(match.match_time)
            if query.get("id") and match.match_id != query["id"]:
                continue
            if query.get("market") and match.condition_id != query["market"]:
                continue
            if query.get("asset_id") and query["asset_id"] not in (
                    {match.token_id} | {f.token_id for f in match.makers}):
                continue
            if wanted_maker and wanted_maker not in (
                    {match.taker.lower()} | {f.maker.lower() for f in match.makers}):
                continue
            if (after is not None and when < after) or (before is not None and when > before):
                continue
            selected.append(views.trade(match, self.engine, user))
        page = views.page(selected, query.get("next_cursor"))
        return json_reply(page) if page is not None else error_reply(errors.INVALID_TRADE_PARAMS)

    async def balance_allowance(self, request: web.Request, key: ApiKey,
                                body: str) -> web.Response:
        query = request.query
        asset_type = query.get("asset_type", "").upper()
        try:
            signature_type = int(query.get("signature_type", "0"))
        except ValueError:
            signature_type = 0
        address = self.engine.funder_of(key.address, max(signature_type, 0))
        account = self.sim.accounts.get(address)
        spenders = _spenders(self.sim.chain_id)
        if asset_type == "COLLATERAL":
            def shown(allowance: Decimal) -> str:
                return MAX_UINT256 if allowance >= INFINITE_ALLOWANCE else views.units(allowance)
            return json_reply({"balance": views.units(account.collateral),
                               "allowances": {s: shown(account.allowance_for(s))
                                              for s in spenders}})
        if asset_type == "CONDITIONAL":
            token = query.get("token_id", "")
            if not token.isdigit():
                return error_reply(errors.INVALID_TOKEN_ID)
            return json_reply({"balance": views.units(account.shares.get(token, Decimal(0))),
                               "allowances": {s: MAX_UINT256 if account.operator_approved(s)
                                              else "0" for s in spenders}})
        return error_reply("Invalid asset type")

    async def update_balance_allowance(self, request: web.Request, key: ApiKey,
                                       body: str) -> web.Response:
        # balances here are never stale, so the refresh only acknowledges (the real one is empty)
        return web.Response(text="")


def _spenders(chain_id: int) -> list[str]:
    table = contracts(chain_id)
    return [table.exchange_v2, table.neg_risk_exchange_v2, table.neg_risk_adapter]
