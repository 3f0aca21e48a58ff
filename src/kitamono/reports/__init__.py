"""The reports the センター and the review meeting read, as pure builders from cases to rows.

- ``rows``: the row model every listing and report is made of, and where rows go in its JSON;
- ``needs``: which cases a report reads, so that the loader builds only those;
- ``activity``: counting what each institution did; the quarterly aggregation;
- ``targets``: the plan's targets against the cases; the follow-ups each case owes;
- ``annual``: the year-end review, in its seven sections;
- ``suggestion``: who should handle an inquiry, and why, as ``kitamono route`` shows it;
- ``history``: the case log and what a sync brought, worded for people.

``kitamono.render`` turns any of them into a table, text, CSV, XLSX, HTML or JSON.
"""
