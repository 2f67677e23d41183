#pragma once
// The SmtpMessageSink smtpd gives the SMTP engine: the message streams into a
// queue entry (incoming/<id>) as it arrives, so a session never holds a whole
// message. The Received header is written first (the queue id is known at
// create time). Bytes are buffered on the loop thread; when the buffer passes
// smtp_sink_flush_at the session pauses reading and the buffer is written on
// libuv's thread pool (no blocking write on the loop); commit (write the rest,
// envelope, fdatasync, rename, directory fsync) runs there too, before the 250.
// The header is watched for "TLS-Required: No" (RFC 8689 5): Envelope::tls_optional; and
// its Received fields are counted: smtp_max_received or more is a mail loop (RFC 5321 6.3
// asks for a threshold of at least 100), refused with 554 5.4.6 and nothing queued.

#include <cstddef>
#include <filesystem>
#include <memory>

#include <uv.h>

#include "libmailstore/queue/queue.h"
#include "libproto/smtp/smtp_session.h"

namespace postern {

inline constexpr size_t smtp_sink_flush_at = 128 * 1024;
inline constexpr size_t smtp_max_received = 100;

// `writer` is a fresh entry; `received` is the formatted Received header.
std::unique_ptr<SmtpMessageSink> make_queue_sink(uv_loop_t* loop, QueueWriter writer, Envelope env,
                                                 std::string received,
                                                 std::filesystem::path run_dir);

}  // namespace postern
