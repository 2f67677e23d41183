#pragma once
// How mailctl shows queue entries: the text listing, and one JSON object per line for
// --json (Postfix's `postqueue -j` is the model; every field is in docs/queue.md). Pure:
// envelope in, text out.

#include <string>
#include <string_view>

#include "libmailstore/queue/queue.h"

namespace postern::ctl {

// A JSON string literal: quotes, backslashes and control bytes escaped; bytes that are not
// UTF-8 appear as \u00XX (their value), so the output always parses.
std::string json_string(std::string_view s);

// "active" (not tried yet), "deferred" (tried) or "hold".
const char* queue_name(const Envelope& e);

// The entry's most recent error: a deferred or failed target's reply, else the
// recipient's; empty when there is none.
std::string last_error(const Envelope& e);

// One entry as text (queue list): a summary line, then one line per recipient and per target.
std::string entry_text(const Envelope& e);

// One entry as a JSON object on one line, ending in '\n'. With `headers` (queue show), the
// envelope's other fields and the message header are included.
std::string entry_json(const Envelope& e, const std::string* headers = nullptr);

// The message header of an entry's bytes: everything before the first empty line.
std::string header_part(std::string_view message);

}  // namespace postern::ctl
