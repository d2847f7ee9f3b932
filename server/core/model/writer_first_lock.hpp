#pragma once
// A readers-writer lock that lets no new reader in while a writer waits. std::shared_mutex is
// glibc's default rwlock, which prefers readers: under a steady stream of polls, a phone's
// provisioning (which must write) could wait for seconds. Usable with std::lock_guard and
// std::shared_lock; not recursive (a thread holding it must not take it again).

#include <pthread.h>

#include <system_error>

namespace fortisim::core {

class writer_first_lock {
 public:
  writer_first_lock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int err = pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (err != 0) throw std::system_error(err, std::generic_category(), "pthread_rwlock_init");
  }
  ~writer_first_lock() { pthread_rwlock_destroy(&lock_); }
  writer_first_lock(const writer_first_lock&) = delete;
  writer_first_lock& operator=(const writer_first_lock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace fortisim::core
