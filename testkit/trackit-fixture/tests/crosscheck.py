#!/usr/bin/env python3
"""Cross-check of `trackit-fixture serve` with python-tds (pytds), a TDS client that shares no code with tiberius.

Usage: crosscheck.py PORT   (the server serves the golden database of tests/serve_support/mod.rs)
Exits non-zero with a message on the first mismatch.
"""
import datetime
import decimal
import sys
import uuid

import pytds

port = int(sys.argv[1])
conn = pytds.connect(server="127.0.0.1", port=port, database="TRACKIT_DATA", user="sa", password="fixture",
                     autocommit=True)
cur = conn.cursor()


def check(name, got, want):
    if got != want:
        print(f"MISMATCH {name}: got {got!r}, want {want!r}")
        sys.exit(1)


cur.execute("SET NOCOUNT ON; SET TEXTSIZE 2147483647")
cur.execute("SELECT * FROM [dbo].[TYPES] ORDER BY [id]")
cols = [d[0] for d in cur.description]
rows = [dict(zip(cols, r)) for r in cur.fetchall()]
check("rows", len(rows), 3)
r1, r2, r3 = rows
check("ti", r1["ti"], 255)
check("si", r1["si"], -32768)
check("i", r1["i"], -2147483648)
check("bi", r1["bi"], -9223372036854775808)
check("bi3", r3["bi"], 9223372036854775807)
check("b", r1["b"], True)
check("f", r1["f"], -1.7976931348623157e308)
check("d38", r1["d38"], decimal.Decimal("0.00000000000000000000000000000000000001"))
check("d194", r1["d194"], decimal.Decimal("123456789012345.6789"))
check("n380", r3["n380"], decimal.Decimal("-" + "9" * 38))
check("m", r1["m"], decimal.Decimal("-922337203685477.5808"))
check("sm", r3["sm"], decimal.Decimal("214748.3647"))
check("dt", r1["dt"], datetime.datetime(1753, 1, 1))
check("sdt", r3["sdt"], datetime.datetime(2079, 6, 6, 23, 59))
check("da", r1["da"], datetime.date(1, 1, 1))
check("dt2", r3["dt2"], datetime.datetime(1, 1, 1))
dto = r1["dto"]
check("dto utc", dto.astimezone(datetime.timezone.utc).replace(tzinfo=None), datetime.datetime(2020, 12, 8, 23, 30))
check("dto offset", dto.utcoffset(), datetime.timedelta(hours=2))
check("g", r1["g"], uuid.UUID("9C0C9EED-FEAC-474E-9AD7-C5B9280424D1"))
check("c", r1["c"], "abc       ")
check("vc", r1["vc"], "café")
check("vmax", r1["vmax"], "x" * 10000)
check("tx", r1["tx"], "NULL")
check("tx null", r2["tx"], None)
check("tx empty", r3["tx"], "")
check("nv", r1["nv"], "Grüße ✓")
check("ntx", r1["ntx"], "ntext ✓")
check("bn", r1["bn"], b"\xde\xad\xbe\xef")
check("vb", r1["vb"], b"")
check("vb null", r2["vb"], None)
five = bytes(i % 251 for i in range(5 * 1024 * 1024))
check("img", r1["img"] == five, True)
check("vbmax", r1["vbmax"] == five, True)
check("x", r1["x"], "<a>1</a>")
for k, v in r2.items():
    if k != "id":
        check("null " + k, v, None)

# Parameterised (sp_executesql) keyset page and raw bytes through CAST.
cur.execute("SELECT TOP (%s) [WOID], CAST([TASK] AS varbinary(max)) AS [TASK] FROM [dbo].[TASKS] WITH (NOLOCK) "
            "WHERE [WOID] > %s ORDER BY [WOID]", (3, 5))
page = cur.fetchall()
check("page", [r[0] for r in page], [6, 7, 8])
check("page bytes", page[0][1][:13], b"Task number 6")
cur.execute("SELECT CAST([vu] AS varbinary(max)) AS [vu], CAST([vc] AS varbinary(max)) AS [vc] "
            "FROM [dbo].[TYPES] WHERE [id] = %s", (1,))
vu, vc = cur.fetchone()
check("vu", vu, b"A\xffB")
check("vc raw", vc, b"caf\xe9")

# Errors keep their numbers.
for sql, num in [("SELECT * FROM [dbo].[NOPE]", 208), ("SELECT [nope] FROM [dbo].[TASKS]", 207), ("SELEC 1", 102)]:
    try:
        cur.execute(sql)
        check(sql, "no error", num)
    except pytds.Error as e:
        check(sql, getattr(e, "number", None) or e.msg_no, num)
cur.execute("SELECT COUNT(*) FROM [dbo].[TASKS]")
check("still usable", cur.fetchone()[0] > 0, True)
print("python-tds crosscheck OK")
