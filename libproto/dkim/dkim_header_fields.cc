#include "libproto/dkim/dkim_header_fields.h"

#include <unordered_map>

#include "libproto/core/ascii.h"

namespace postern {

std::optional<size_t> header_end(std::string_view head) {
    if (head.starts_with("\r\n")) return 2;
    size_t at = head.find("\r\n\r\n");
    if (at == std::string_view::npos) return std::nullopt;
    return at + 4;
}

namespace {

bool valid_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e)
            return false;
    return true;
}

}  // namespace

std::vector<HeaderField> parse_header_fields(std::string_view header) {
    std::vector<HeaderField> fields;
    bool in_field = false;  // the previous line was (part of) a field that continuation may extend
    size_t pos = 0;
    while (pos < header.size()) {
        size_t eol = header.find("\r\n", pos);
        size_t line_end = eol == std::string_view::npos ? header.size() : eol;
        size_t next = eol == std::string_view::npos ? header.size() : eol + 2;
        std::string_view line = header.substr(pos, line_end - pos);
        if (line.empty()) break;  // the empty line: the header ends here
        if (line[0] == ' ' || line[0] == '\t') {
            if (in_field) {
                // The field's value now reaches to the end of this line.
                auto& f = fields.back();
                const char* start = f.value.data();
                f.value = std::string_view(start, size_t(header.data() + line_end - start));
            }
        } else {
            size_t colon = line.find(':');
            in_field = colon != std::string_view::npos && valid_name(line.substr(0, colon));
            if (in_field) fields.push_back({line.substr(0, colon), line.substr(colon + 1)});
        }
        pos = next;
    }
    return fields;
}

std::vector<const HeaderField*> select_fields(const std::vector<HeaderField>& fields,
                                              const std::vector<std::string>& names) {
    std::vector<const HeaderField*> out;
    out.reserve(names.size());
    std::unordered_map<std::string, size_t> below;  // name -> index of its last pick
    for (const auto& name : names) {
        auto [it, fresh] = below.try_emplace(name, fields.size());
        size_t i = it->second;
        while (i > 0) {
            --i;
            if (iequals(fields[i].name, name)) {
                out.push_back(&fields[i]);
                break;
            }
        }
        it->second = i;
    }
    return out;
}

}  // namespace postern
