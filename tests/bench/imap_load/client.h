#pragma once
// One IMAP client connection on the run's libuv loop: connect (plain or TLS over memory
// BIOs), LOGIN, SELECT, then the mode's workload, one command in flight at a time. Every
// response is checked: the tagged status must be OK, and the untagged FETCH lines must be
// there for the commands that ask for them.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <uv.h>
#include <vector>

#include "response_scanner.h"
#include "run.h"
#include "tls_stream.h"

namespace imap_load {

class Client {
public:
    Client(Run& run, int index);
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void start();         // connects and logs in (again after an error)
    void release_idle();  // idle mode: leave IDLE and log out
    bool idling() const { return idling_; }
    // Started, and now closed for good (logged out, gave up, or the window ended).
    bool finished() const {
        return started_once_ && state_ == State::closed && !handle_open_ &&
               (done_ || run_.stopping || run_.releasing);
    }

private:
    enum class State { closed, connecting, greeting, ready, closing };

    static void on_connect(uv_connect_t* req, int status);
    static void on_alloc(uv_handle_t* h, size_t suggested, uv_buf_t* buf);
    static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* buf);
    static void on_closed(uv_handle_t* h);
    static void on_timer(uv_timer_t* t);

    void on_bytes(std::string_view data);
    bool on_line(std::string_view line);
    void on_untagged(std::string_view line);
    void on_continuation();
    void on_tagged(std::string_view status_and_text);
    bool check(std::string_view status_and_text);
    void next();
    void next_mix();
    void next_select_cost();

    void command(Cmd c, std::string_view text);  // sends "<tag> text\r\n"
    void send(std::string_view data);
    void send_raw(std::string_view data);
    void fail(const char* cmd, std::string_view what);  // error + close (+ retry in mix)
    void close();
    uint32_t random_below(uint32_t n);

    Run& run_;
    int index_;
    std::string user_;
    State state_ = State::closed;
    uv_tcp_t tcp_{};
    uv_connect_t connect_req_{};
    uv_timer_t timer_{};
    bool handle_open_ = false;
    bool retry_ = false;    // reconnect once the handle is closed
    bool in_setup_ = true;  // counted in the run's ramp
    bool done_ = false;     // logged out (or gave up) for good
    bool started_once_ = false;

    std::unique_ptr<TlsStream> tls_;
    std::string plain_, cipher_out_;
    ResponseScanner scanner_;

    // The command in flight.
    Cmd cmd_ = Cmd::login;
    std::string tag_;
    uint64_t tag_no_ = 0;
    Clock::time_point started_;
    uint64_t untagged_ = 0, fetches_ = 0, literal_at_start_ = 0;
    bool cont_wanted_ = false;  // APPEND literal / IDLE waits for "+"
    bool idling_ = false;       // IDLE: "+" came, DONE not yet sent
    bool bye_ = false;

    // Mailbox state.
    uint32_t exists_ = 0;
    uint32_t msgs_ = 0;               // messages the mix may touch: 1..msgs_
    std::vector<uint32_t> appended_;  // UIDs of messages this client appended
    std::string append_body_;
    uint64_t rng_;
    int rep_ = 0;  // --select-cost repetition
};

}  // namespace imap_load
