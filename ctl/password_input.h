#pragma once
// Reading a new password: from stdin (--password-stdin), or typed twice on a terminal.

#include <expected>
#include <string>

namespace postern::ctl {

// One line from stdin without its line ending. Error when stdin is empty or the
// password is empty.
std::expected<std::string, std::string> read_password_stdin();

// Prompts on the terminal (echo off) twice. Error when stdin is not a terminal or the
// two entries differ.
std::expected<std::string, std::string> prompt_new_password();

// Wipes a password held in a string (OPENSSL_cleanse) and empties it.
void wipe(std::string& secret);

}  // namespace postern::ctl
