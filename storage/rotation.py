"""Re-encrypt every personal field under the current DATA_KEY (`python -m bot rotate-key`).

Procedure: set DATA_KEY to a new key and DATA_KEY_OLD to the previous one(s), run
`python -m bot rotate-key`, then drop DATA_KEY_OLD. Blind indexes are recomputed from the
decrypted ids, and question indexes from the decrypted question texts. FSM records
(half-finished dialogs) are keyed by an index of data we do not keep in clear, so they are
reset. Audit entries, broadcasts and learned phrasings keep the admin pseudonym computed under
the old key: it only groups an admin's own actions and is not looked up.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from storage.database import create_engine, create_session_pool, migrate
from storage.encryption import FieldCipher
from storage.learned import TEXT_CONTEXT as LEARNED_CONTEXT
from storage.models import (
    Base,
    Broadcast,
    FsmRecord,
    LearnedPhrasing,
    SigningKey,
    UnansweredQuestion,
    User,
)
from storage.questions import TEXT_CONTEXT as QUESTION_CONTEXT
from storage.questions import phrasing_index

# (model, column, encryption context) for every encrypted column.
ENCRYPTED_COLUMNS: list[tuple[type[Base], str, str]] = [
    (User, "tg_id_enc", "users.tg_id"),
    (SigningKey, "label_enc", "keys.label"),
    (SigningKey, "storage_enc", "keys.storage_note"),
    (SigningKey, "company_enc", "keys.company"),
    (SigningKey, "cert_enc", "keys.cert"),
    (Broadcast, "progress_chat_enc", "broadcasts.progress_chat"),
    (UnansweredQuestion, "text_enc", QUESTION_CONTEXT),
    (LearnedPhrasing, "text_enc", LEARNED_CONTEXT),
]
# Blind indexes of a decrypted column, recomputed under the new key: (model, column) → index.
QUESTION_INDEXES: dict[tuple[type[Base], str], str] = {
    (UnansweredQuestion, "text_enc"): "group_key",
    (LearnedPhrasing, "text_enc"): "text_index",
}


async def rotate_session(session: AsyncSession, cipher: FieldCipher) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model, column, context in ENCRYPTED_COLUMNS:
        done = 0
        for row in (await session.scalars(select(model))).all():
            blob = getattr(row, column)
            if cipher.needs_rotation(blob):
                setattr(row, column, cipher.encrypt(cipher.decrypt(blob, context), context))
                done += 1
            if model is User and column == "tg_id_enc":
                row.tg_index = cipher.blind_index(cipher.decrypt(row.tg_id_enc, context))  # type: ignore[attr-defined]
            if (index := QUESTION_INDEXES.get((model, column))) is not None:
                text = cipher.decrypt(getattr(row, column), context)
                setattr(row, index, phrasing_index(cipher, text))
        counts[f"{model.__tablename__}.{column}"] = done
    result = await session.execute(delete(FsmRecord))
    counts["fsm_records_reset"] = int(result.rowcount)  # type: ignore[attr-defined]
    await session.commit()
    return counts


async def rotate_all(settings: Settings) -> dict[str, int]:
    current, old = settings.data_keys()
    await migrate(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with create_session_pool(engine)() as session:
            return await rotate_session(session, FieldCipher(current, old))
    finally:
        await engine.dispose()
