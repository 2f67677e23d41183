// PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login): password mechanisms.
#include "libproto/sasl/sasl_mechs.h"

namespace postern::sasl_detail {

namespace {

// RFC 4616 asks servers to accept at least 255 octets per field; allow more,
// but not unbounded.
constexpr size_t max_field = 1024;

class PlainServer final : public SaslServer {
public:
    PlainServer(const SaslCallbacks& cb, const SaslOptions& opt) : SaslServer("PLAIN", cb, opt) {}

private:
    SaslStep on_start_without_data() override { return challenge(""); }

    // message = [authzid] NUL authcid NUL passwd
    SaslStep on_data(std::string_view data, bool) override {
        size_t n1 = data.find('\0');
        if (n1 == std::string_view::npos) return fail(SaslFailure::malformed);
        size_t n2 = data.find('\0', n1 + 1);
        if (n2 == std::string_view::npos) return fail(SaslFailure::malformed);
        if (data.find('\0', n2 + 1) != std::string_view::npos) return fail(SaslFailure::malformed);
        std::string_view authzid = data.substr(0, n1);
        std::string_view authcid = data.substr(n1 + 1, n2 - n1 - 1);
        std::string_view passwd = data.substr(n2 + 1);
        if (authzid.size() > max_field || authcid.size() > max_field || passwd.size() > max_field)
            return fail(SaslFailure::too_long);  // never hashed
        // Acting as somebody else is not supported: checked once the user is known.
        authzid_ = std::string(authzid);
        return check_password(authcid, passwd);
    }
};

class LoginServer final : public SaslServer {
public:
    LoginServer(const SaslCallbacks& cb, const SaslOptions& opt) : SaslServer("LOGIN", cb, opt) {}
    ~LoginServer() override { wipe(username_); }

private:
    SaslStep on_start_without_data() override { return challenge("Username:"); }

    SaslStep on_data(std::string_view data, bool) override {
        if (data.size() > max_field) return fail(SaslFailure::too_long);  // never hashed
        if (!have_username_) {
            // Some clients send the user name as the initial response.
            have_username_ = true;
            username_ = std::string(data);
            login_name_ = username_;
            return challenge("Password:");
        }
        SaslStep r = check_password(username_, data);
        wipe(username_);
        return r;
    }

    bool have_username_ = false;
    std::string username_;
};

}  // namespace

std::unique_ptr<SaslServer> make_plain(const SaslCallbacks& cb, const SaslOptions& opt) {
    return std::make_unique<PlainServer>(cb, opt);
}

std::unique_ptr<SaslServer> make_login(const SaslCallbacks& cb, const SaslOptions& opt) {
    return std::make_unique<LoginServer>(cb, opt);
}

}  // namespace postern::sasl_detail
