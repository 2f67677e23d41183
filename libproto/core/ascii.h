#pragma once
// ASCII case helpers for protocol keywords and domain names (never locale-dependent).

#include <algorithm>
#include <string>
#include <string_view>

namespace postern {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? char(c + ('a' - 'A')) : c; }
inline char ascii_upper(char c) { return c >= 'a' && c <= 'z' ? char(c - ('a' - 'A')) : c; }

// Equal ignoring ASCII case ("ehlo" == "EHLO").
inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return ascii_lower(x) == ascii_lower(y);
           });
}

// `s` starts with `prefix`, ignoring ASCII case.
inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

inline std::string ascii_lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

inline std::string ascii_uppered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_upper(c);
    return out;
}

}  // namespace postern
