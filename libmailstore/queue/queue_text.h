#pragma once
// The queue's value escaping, shared by the envelope trailer and the state log: bytes
// <= 0x20, 0x7f and '%' become %XX, everything else (UTF-8 included) passes through.

#include <string>
#include <string_view>

namespace postern::queue_text {

void put_encoded(std::string& out, std::string_view v);
// False when v holds a malformed escape.
bool decode_value(std::string_view v, std::string& out);

}  // namespace postern::queue_text
