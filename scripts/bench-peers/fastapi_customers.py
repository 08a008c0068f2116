"""A peer for `scripts/bench peers`: the two customer reads of the service (by id, and the first
page of 50) served by FastAPI + asyncpg + orjson, over the same table with the same SQL, answering
the same JSON members in the same order (absent when null). No authentication, tenancy check,
contract validation or metrics: only what a quick in-house service would do.

Run: CRM_PEER_DSN=postgresql://... CRM_PEER_DEALER=<uuid> uvicorn fastapi_customers:app --workers 2
"""

import os
from contextlib import asynccontextmanager

import asyncpg
import orjson
from fastapi import FastAPI, HTTPException
from fastapi.responses import Response

DSN = os.environ["CRM_PEER_DSN"]
DEALER = os.environ["CRM_PEER_DEALER"]
POOL_SIZE = int(os.environ.get("CRM_PEER_POOL", "4"))

COLUMNS = """c.dealer_id, c.id, c.kind, c.name, c.surname, c.gender, c.phone, c.email, c.birthday,
    c.address->>'province' AS province, c.address->>'city' AS city, c.address->>'district' AS district,
    c.address->>'community' AS community, c.address->>'street' AS street, c.address->>'postal_code' AS postal_code,
    c.occupation, c.employer, c.income_band, c.hobbies, c.marital_status, c.children, c.fleet_category,
    c.fleet_agreement_ends, c.preferred_brands, c.preferences->>'colour' AS colour, c.preferences->>'trim' AS trim,
    (c.preferences->>'decision_days')::int4 AS decision_days, c.tags, c.notes, c.erased_at, c.created_at,
    c.updated_at, c.version"""
BY_ID = f"SELECT {COLUMNS} FROM customers c WHERE c.dealer_id = $1 AND c.id = $2 AND c.deleted_at IS NULL"
PAGE = f"""SELECT {COLUMNS} FROM customers c WHERE c.dealer_id = $1 AND c.deleted_at IS NULL
    ORDER BY c.created_at DESC, c.id DESC LIMIT 51"""

pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(_app):
    global pool
    pool = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield
    await pool.close()


app = FastAPI(lifespan=lifespan)


def stamp(value):
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value is not None else None


def present(pairs):
    return {key: value for key, value in pairs if value is not None}


def customer(row) -> dict:
    return present([
        ("id", str(row["id"])), ("dealer_id", str(row["dealer_id"])), ("kind", row["kind"]), ("name", row["name"]),
        ("surname", row["surname"]), ("gender", row["gender"]), ("phone", row["phone"]), ("email", row["email"]),
        ("birthday", row["birthday"].isoformat() if row["birthday"] else None),
        ("address", present([(k, row[k]) for k in ("province", "city", "district", "community", "street", "postal_code")]) or None),
        ("occupation", row["occupation"]), ("employer", row["employer"]), ("income_band", row["income_band"]),
        ("hobbies", row["hobbies"]), ("marital_status", row["marital_status"]), ("children", row["children"]),
        ("fleet_category", row["fleet_category"]),
        ("fleet_agreement_ends", row["fleet_agreement_ends"].isoformat() if row["fleet_agreement_ends"] else None),
        ("preferred_brands", row["preferred_brands"]),
        ("preferences", present([("colour", row["colour"]), ("trim", row["trim"]), ("decision_days", row["decision_days"])])),
        ("tags", row["tags"]), ("notes", row["notes"]), ("erased_at", stamp(row["erased_at"])),
        ("created_at", stamp(row["created_at"])), ("updated_at", stamp(row["updated_at"])), ("version", row["version"]),
    ])


@app.get("/v1/customers/{customer_id}")
async def get_customer(customer_id: str) -> Response:
    row = await pool.fetchrow(BY_ID, DEALER, customer_id)
    if row is None:
        raise HTTPException(status_code=404)
    return Response(orjson.dumps(customer(row)), media_type="application/json")


@app.get("/v1/customers")
async def list_customers(limit: int = 50) -> Response:
    rows = await pool.fetch(PAGE, DEALER)
    body = {"data": [customer(row) for row in rows[:50]]}
    if len(rows) > 50:
        body["next_cursor"] = str(rows[49]["id"])
    return Response(orjson.dumps(body), media_type="application/json")
