#include "spoold/remote_transport.h"

#include <algorithm>
#include <cctype>

namespace postern {

void DeferringTransport::deliver(const RemoteBatch& batch, Done done) {
    std::vector<TargetResult> out;
    out.reserve(batch.targets.size());
    for (const auto& ref : batch.targets) {
        const auto& rcpts = batch.envelope->recipients;
        std::string addr;
        if (ref.rcpt < rcpts.size() && ref.target < rcpts[ref.rcpt].targets.size())
            addr = rcpts[ref.rcpt].targets[ref.target].address;
        out.push_back(
            {TargetState::deferred, "4.4.0 remote delivery not implemented yet (" + addr + ")"});
    }
    done(std::move(out));
}

std::string destination_of(std::string_view address) {
    size_t at = address.rfind('@');
    std::string d(at == std::string_view::npos ? std::string_view{} : address.substr(at + 1));
    std::transform(d.begin(), d.end(), d.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return d;
}

}  // namespace postern
