#pragma once
// A TLS client over OpenSSL memory BIOs: the caller moves ciphertext between the socket and
// this object, so TLS runs on the same libuv loop as plain connections. The peer is not
// verified: a loopback benchmark against self-signed certificates.

#include <openssl/ssl.h>
#include <string>
#include <string_view>

namespace imap_load {

class TlsStream {
public:
    // One context for all connections; nullptr (and a message on stderr) on failure.
    static SSL_CTX* client_context();

    explicit TlsStream(SSL_CTX* ctx);
    ~TlsStream();
    TlsStream(const TlsStream&) = delete;
    TlsStream& operator=(const TlsStream&) = delete;

    // Starts the handshake (the ClientHello is then in network_output()).
    bool start();
    // Ciphertext from the socket; decrypted bytes are appended to plain. False on a TLS
    // error or when the peer closed the TLS session.
    bool on_network(std::string_view cipher, std::string& plain);
    // Plaintext to send; held until the handshake is done.
    bool write(std::string_view plain);
    // Moves the ciphertext waiting for the socket into out (cleared first).
    void network_output(std::string& out);
    const std::string& error() const { return error_; }

private:
    bool pump();  // handshake, then pending writes

    SSL* ssl_ = nullptr;
    BIO* rbio_ = nullptr;  // network -> SSL (owned by ssl_)
    BIO* wbio_ = nullptr;  // SSL -> network (owned by ssl_)
    std::string pending_;  // plaintext written before the handshake finished
    std::string error_;
};

}  // namespace imap_load
