"""sod-nova's own database: host capability rows and scheduling rejections.

Never Nova's schema. One oslo.db engine facade (:mod:`sod_nova.db.api`),
SQLAlchemy models (:mod:`sod_nova.db.models`) and alembic migrations shipped
in the package (``migrations/``), applied by ``sod-nova db sync``.
"""
