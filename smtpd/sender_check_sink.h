#pragma once
// The From: half of the sender check (sender_owner.h) on an authenticated session: a sink
// around the queue sink that hands every byte on and shows the header to a
// FromHeaderWatcher. At commit, each From: address must be the user's, or the envelope
// sender already checked at MAIL, or an alias of the user (then one pool job looks it up);
// otherwise the inner sink is dropped (the entry is removed: nothing is queued) and the
// message is refused with SmtpVerdict::sender_mismatch (550 5.7.1).

#include <memory>
#include <string>

#include <uv.h>

#include "libmailstore/accounts.h"
#include "libproto/smtp/smtp_session.h"

namespace postern {

// `user`: the authenticated account; `envelope_sender`: MAIL FROM as accepted ("" for <>).
std::unique_ptr<SmtpMessageSink> make_sender_check_sink(uv_loop_t* loop,
                                                        std::unique_ptr<SmtpMessageSink> inner,
                                                        std::shared_ptr<Accounts> accounts,
                                                        std::string user,
                                                        std::string envelope_sender);

}  // namespace postern
