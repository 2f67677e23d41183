// mailctl check: is this instance ready to start?

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "ctl/commands.h"
#include "ctl/ctl.h"
#include "ctl/run_user.h"
#include "libmailstore/store_factory.h"
#include "libmailstore/store.h"
#include "libmailstore/store_check.h"
#include "libproto/config/instance_secret.h"
#include "libproto/core/secret.h"

namespace postern::ctl {
namespace fs = std::filesystem;
namespace {

// Loads the certificate and key and checks that they belong together.
std::string check_tls(const fs::path& cert_file, const fs::path& key_file) {
    std::unique_ptr<FILE, int (*)(FILE*)> cf(std::fopen(cert_file.c_str(), "re"), std::fclose);
    if (!cf) return cert_file.string() + ": cannot read TLS certificate";
    std::unique_ptr<X509, void (*)(X509*)> cert(PEM_read_X509(cf.get(), nullptr, nullptr, nullptr),
                                                X509_free);
    if (!cert) return cert_file.string() + ": not a PEM certificate";
    std::unique_ptr<FILE, int (*)(FILE*)> kf(std::fopen(key_file.c_str(), "re"), std::fclose);
    if (!kf) return key_file.string() + ": cannot read TLS key";
    std::unique_ptr<EVP_PKEY, void (*)(EVP_PKEY*)> key(
        PEM_read_PrivateKey(kf.get(), nullptr, nullptr, nullptr), EVP_PKEY_free);
    if (!key) return key_file.string() + ": not a PEM private key";
    if (X509_check_private_key(cert.get(), key.get()) != 1)
        return key_file.string() + ": key does not match " + cert_file.string();
    if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) <= 0)
        return cert_file.string() + ": certificate has expired";
    return "";
}

}  // namespace

int cmd_check(const Config& c) {
    std::vector<std::string> problems;
    for (const auto& [what, dir] :
         {std::pair{"paths.data", c.data_dir}, std::pair{"paths.queue", c.queue_dir},
          std::pair{"paths.run", c.run_dir}, std::pair{"paths.log", c.log_dir}}) {
        std::error_code ec;
        if (!fs::is_directory(dir, ec))
            problems.push_back(dir.string() + ": " + what + " is not a directory");
        else if (::access(dir.c_str(), W_OK | X_OK) != 0)
            problems.push_back(dir.string() + ": " + what + " is not writable");
    }
    if (auto tls = check_tls(c.tls_cert, c.tls_key); !tls.empty()) problems.push_back(tls);
    if (auto bad = backend_problem(c.store.backend); !bad.empty()) problems.push_back(bad);
    if (auto secret = read_instance_secret(c); !secret)
        problems.push_back(secret.error());
    else
        wipe(*secret);
    // As root: what the daemons would refuse (no run user), or what would fail once they drop.
    for (auto& p : run_user_problems(c)) problems.push_back(std::move(p));
    // Every LMDB database, read-only: a lost or truncated one is reported, never made anew.
    if (std::error_code ec; fs::is_directory(c.data_dir, ec)) {
        auto store = check_store(c.data_dir, c.store.lmdb_map_size, StoreOptions{}.index_map_size);
        problems.insert(problems.end(), store.begin(), store.end());
    }
    for (const auto& w : c.warnings) std::fprintf(stderr, "mailctl: warning: %s\n", w.c_str());
    for (const auto& p : problems) std::fprintf(stderr, "mailctl: %s\n", p.c_str());
    if (!problems.empty()) return exit_failed;
    std::printf("ok: %s\n", c.file.c_str());
    return exit_ok;
}

}  // namespace postern::ctl
