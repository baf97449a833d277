#include "flow/tcp_state.hpp"

#include "packet/wire.hpp"

namespace sluice::flow {

using packet::tcp_flag::ack;
using packet::tcp_flag::fin;
using packet::tcp_flag::rst;
using packet::tcp_flag::syn;

tcp_transition tcp_next_state(tcp_state s, uint8_t flow_flags, direction dir, uint8_t f) {
    if (f & rst) return {tcp_state::close, flow_flags};
    if (f & fin) {
        flow_flags |= dir == direction::from_client ? flow_flag::fin_from_client
                                                    : flow_flag::fin_from_backend;
        bool both =
            (flow_flags & flow_flag::fin_from_client) && (flow_flags & flow_flag::fin_from_backend);
        if (s == tcp_state::close) return {s, flow_flags};
        return {both ? tcp_state::time_wait : tcp_state::fin_wait, flow_flags};
    }
    switch (s) {
        case tcp_state::syn_sent:
            if (dir == direction::from_backend && (f & syn) && (f & ack))
                return {tcp_state::syn_recv, flow_flags};
            break;
        case tcp_state::syn_recv:
            if (dir == direction::from_client && (f & ack) && !(f & syn))
                return {tcp_state::established, flow_flags};
            break;
        default:
            break;
    }
    return {s, flow_flags};
}

const char* tcp_state_name(tcp_state s) {
    switch (s) {
        case tcp_state::syn_sent:
            return "syn_sent";
        case tcp_state::syn_recv:
            return "syn_recv";
        case tcp_state::established:
            return "established";
        case tcp_state::fin_wait:
            return "fin_wait";
        case tcp_state::time_wait:
            return "time_wait";
        case tcp_state::close:
            return "close";
        case tcp_state::count:
            break;
    }
    return "?";
}

}  // namespace sluice::flow
