"""``reactclip review DIR``: a local web page to go through a batch's drafts (``reactclip batch``),
decide on each, remake the ones that need it, and export (or post) the approved ones.

folder.py reads and rewrites DIR's manifest, store.py keeps the decisions in DIR/review.sqlite3,
remake.py runs a draft again through the one pipeline, security.py guards the page, app.py holds
its routes, server.py starts and stops it, export.py and webhook.py take the approved drafts out.
Nothing heavy is imported here: ``reactclip --help`` must stay fast.
"""
