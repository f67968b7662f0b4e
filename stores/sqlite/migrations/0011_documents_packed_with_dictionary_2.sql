-- Documents packed with dictionary 2 (issue 9). From this version on, new packed
-- documents carry format byte 2: a zstd frame compressed against
-- stores/sqlite/dictionaries/v2.zdict, a dictionary trained by zstd
-- (examples/dictionary_v2) whose entropy tables a frame reuses instead of building its
-- own (src/codec.rs). Documents packed with dictionary 1 stay as they are and are read
-- with it. Nothing is rewritten; this version is what makes an older ordersmith refuse
-- such a file (SQLITE_SCHEMA_TOO_NEW) instead of failing on a document it cannot read.
INSERT INTO document_formats (format, codec, dictionary)
VALUES (2, 'zstd', 'stores/sqlite/dictionaries/v2.zdict fnv1a64:d0bbd40f6bd77297');
