// The Router: compiles routing tables, sums the workers' statistics, starts
// and stops the I/O threads (worker.h).
#include "router/worker.h"

#include <charconv>

namespace tauon::router {

using detail::CompiledTable;
using detail::Now;
using detail::Worker;

namespace {

Result<tcp::endpoint> ResolveEndpoint(const std::string& host, int port) {
  if (port < 1 || port > 65535) return Fail("port {} out of range (1-65535)", port);
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h.empty() || h == "localhost") h = "127.0.0.1";
  error_code ec;
  asio::ip::address address = asio::ip::make_address(h, ec);
  if (!ec) return tcp::endpoint(address, static_cast<uint16_t>(port));
  asio::io_context io;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(h, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Fail("cannot resolve '{}': {}", host, ec ? ec.message() : "no address");
  }
  return results.begin()->endpoint();
}

std::string EndpointKey(const tcp::endpoint& endpoint) {
  return fmt::format("{}:{}", endpoint.address().to_string(), endpoint.port());
}

}  // namespace

Status ValidateTable(const RoutingTable& table) {
  std::map<std::string, int> seen;
  for (const Backend& backend : table.backends) {
    if (backend.release.empty()) return Fail("a release has an empty name");
    for (char c : backend.release) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
        return Fail("release name '{}' may only hold letters, digits, '-', '_' and '.'",
                    backend.release);
      }
    }
    if (!seen.emplace(backend.release, 1).second) {
      return Fail("release '{}' appears twice", backend.release);
    }
    for (const Upstream& upstream : backend.upstreams) {
      if (upstream.port < 1 || upstream.port > 65535) {
        return Fail("release '{}': port {} of replica '{}' is out of range (1-65535)",
                    backend.release, upstream.port, upstream.id);
      }
      if (upstream.host.empty()) {
        return Fail("release '{}': replica '{}' has no host", backend.release, upstream.id);
      }
    }
  }
  if (table.mirror_percent < 0 || table.mirror_percent > 100) {
    return Fail("mirror percent {} is not within 0-100", table.mirror_percent);
  }
  if (!table.mirror_release.empty() && !seen.contains(table.mirror_release)) {
    return Fail("mirror release '{}' is not in the table", table.mirror_release);
  }
  return Ok();
}

Router::Router(std::string environment, RouterOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->environment = std::move(environment);
  impl_->options = options;
  int threads = options.threads > 0 ? options.threads
                                    : static_cast<int>(std::thread::hardware_concurrency());
  impl_->thread_count = std::max(threads, 1);
  impl_->table = std::make_shared<CompiledTable>();
}

Router::~Router() { Stop(); }

const std::string& Router::environment() const { return impl_->environment; }

Status Router::SetTable(RoutingTable table) {
  if (Status valid = ValidateTable(table); !valid) return valid;
  auto compiled = std::make_shared<CompiledTable>();
  for (const Backend& backend : table.backends) {
    std::vector<tcp::endpoint> endpoints;
    for (const Upstream& upstream : backend.upstreams) {
      Result<tcp::endpoint> endpoint = ResolveEndpoint(upstream.host, upstream.port);
      if (!endpoint) {
        return Fail("release '{}', replica '{}': {}", backend.release, upstream.id,
                    endpoint.error().message);
      }
      endpoints.push_back(*endpoint);
    }
    std::vector<std::string> keys;
    for (const tcp::endpoint& endpoint : endpoints) keys.push_back(EndpointKey(endpoint));
    compiled->keys.push_back(std::move(keys));
    compiled->endpoints.push_back(std::move(endpoints));
    compiled->weights.push_back(backend.weight);
    compiled->default_hosts.push_back(
        backend.upstreams.empty()
            ? std::string()
            : fmt::format("{}:{}", backend.upstreams[0].host, backend.upstreams[0].port));
  }
  for (size_t i = 0; i < table.backends.size(); ++i) {
    if (table.backends[i].release == table.mirror_release && table.mirror_percent > 0) {
      compiled->mirror = static_cast<int>(i);
    }
  }
  compiled->table = std::move(table);
  {
    std::lock_guard lock(impl_->mutex);
    for (const Backend& backend : compiled->table.backends) {
      std::shared_ptr<ReleaseCounters>& counters = impl_->counters[backend.release];
      if (!counters) counters = std::make_shared<ReleaseCounters>(impl_->thread_count);
      compiled->counters.push_back(counters);
    }
    for (const auto& keys : compiled->keys) {
      auto& in_flight = compiled->in_flight.emplace_back();
      for (const std::string& key : keys) {
        auto& counter = impl_->replica_in_flight[key];
        if (!counter) counter = std::make_shared<std::atomic<int64_t>>(0);
        in_flight.push_back(counter);
      }
    }
    impl_->table = std::move(compiled);
    impl_->table_version.fetch_add(1, std::memory_order_acq_rel);
  }
  return Ok();
}

RoutingTable Router::table() const { return impl_->CurrentTable()->table; }

int64_t Router::InFlight(const std::string& host, int port) const {
  Result<tcp::endpoint> endpoint = ResolveEndpoint(host, port);
  if (!endpoint) return 0;
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->replica_in_flight.find(EndpointKey(*endpoint));
  return it == impl_->replica_in_flight.end() ? 0 : it->second->load(std::memory_order_relaxed);
}

Snapshot Router::Stats() const {
  Snapshot snapshot;
  snapshot.environment = impl_->environment;
  SteadyTime now = Now();
  snapshot.uptime_seconds = std::chrono::duration<double>(now - impl_->created).count();
  int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  std::shared_ptr<const CompiledTable> table;
  std::map<std::string, std::shared_ptr<ReleaseCounters>> counters;
  {
    std::lock_guard lock(impl_->mutex);
    table = impl_->table;
    counters = impl_->counters;
  }
  // Releases in table order first, then the ones removed from it.
  auto add = [&](const std::string& name, const Backend* backend) {
    ReleaseSnapshot release;
    release.release = name;
    if (backend) {
      release.version = backend->version;
      release.weight = backend->weight;
      release.ready_replicas = static_cast<int>(backend->upstreams.size());
      release.in_table = true;
    }
    counters[name]->AddTo(&release, now_seconds);
    snapshot.releases.push_back(std::move(release));
  };
  for (const Backend& backend : table->table.backends) add(backend.release, &backend);
  for (const auto& [name, unused] : counters) {
    if (!snapshot.Find(name)) add(name, nullptr);
  }
  snapshot.bad_requests = impl_->bad_requests.load(std::memory_order_relaxed);
  std::lock_guard lock(impl_->mutex);
  for (const auto& worker : impl_->workers) {
    snapshot.connections_accepted += worker->accepted.load(std::memory_order_relaxed);
    snapshot.connections_open += worker->open.load(std::memory_order_relaxed);
  }
  return snapshot;
}

Result<int> Router::Start(const std::string& address) {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->started) return Fail("the router is already started");
    impl_->started = true;
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return Fail("invalid listen address '{}': expected HOST:PORT", address);
  }
  std::string host = address.substr(0, colon);
  int port = 0;
  std::string port_text = address.substr(colon + 1);
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port < 0 || port > 65535) {
    return Fail("invalid listen address '{}': bad port '{}'", address, port_text);
  }
  tcp::endpoint endpoint;
  if (host.empty()) {
    endpoint = tcp::endpoint(tcp::v4(), static_cast<uint16_t>(port));
  } else {
    std::string h = host;
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
    if (h == "localhost") h = "127.0.0.1";
    error_code error;
    asio::ip::address ip = asio::ip::make_address(h, error);
    if (error) {
      return Fail("invalid listen address '{}': '{}' is not an IP address", address, host);
    }
    endpoint = tcp::endpoint(ip, static_cast<uint16_t>(port));
  }
  // SO_REUSEPORT below would also let this router share a port that another
  // one (of the same user) listens on, splitting that port's traffic between
  // them: a plain bind first refuses a port in use, whoever holds it.
  if (port != 0) {
    asio::io_context io;
    tcp::acceptor probe(io);
    error_code error;
    probe.open(endpoint.protocol(), error);
    if (!error) probe.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) probe.bind(endpoint, error);
    if (error) return Fail("cannot listen on {}: {}", address, error.message());
  }
    // One listening socket per thread on the same port (SO_REUSEPORT): the
  // kernel spreads connections and no thread hands sockets to another.
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < impl_->thread_count; ++i) {
    auto worker = std::make_unique<Worker>(impl_.get(), i);
    error_code error;
    worker->acceptor.open(endpoint.protocol(), error);
    if (!error) worker->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) {
      int one = 1;
      if (setsockopt(worker->acceptor.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one,
                     sizeof(one)) != 0) {
        error = error_code(errno, boost::system::system_category());
      }
    }
    if (!error) worker->acceptor.bind(endpoint, error);
    if (!error) worker->acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) return Fail("cannot listen on {}: {}", address, error.message());
    if (i == 0) endpoint.port(worker->acceptor.local_endpoint().port());
    workers.push_back(std::move(worker));
  }
  std::lock_guard lock(impl_->mutex);
  impl_->workers = std::move(workers);
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    w->RefreshLocked();
    w->StartSweep();
    asio::co_spawn(w->io, w->Accept(), asio::detached);
    impl_->threads.emplace_back([w] { w->io.run(); });
  }
  return static_cast<int>(endpoint.port());
}

void Router::Stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Only Start and Stop touch the workers' list itself, and both ran under
  // the mutex or before this point; Stats reads it under the mutex.
  std::vector<Worker*> workers;
  {
    std::lock_guard lock(impl_->mutex);
    for (auto& worker : impl_->workers) workers.push_back(worker.get());
  }
  for (Worker* w : workers) asio::post(w->io, [w] { w->Shutdown(); });
  for (std::thread& thread : impl_->threads) thread.join();
  impl_->threads.clear();
  std::vector<std::unique_ptr<Worker>> finished;
  {
    std::lock_guard lock(impl_->mutex);
    finished.swap(impl_->workers);
  }
}

}  // namespace tauon::router
