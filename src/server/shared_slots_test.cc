#include "server/shared_slots.h"

#include <gtest/gtest.h>

namespace tauon::server {
namespace {

TEST(SharedSlotsTest, OlderRunsGetFreedSlotsFirst) {
  SharedSlots shared(1);
  std::vector<int> woken;
  auto run2 = shared.ForRun(2, [&] { woken.push_back(2); });
  ASSERT_TRUE(run2->TryAcquire());
  EXPECT_EQ(shared.in_use(), 1);
  auto run1 = shared.ForRun(1, [&] { woken.push_back(1); });
  auto run3 = shared.ForRun(3, [&] { woken.push_back(3); });
  EXPECT_FALSE(run3->TryAcquire());  // Full: run 3 waits.
  EXPECT_FALSE(run1->TryAcquire());  // Run 1 waits too, ahead of run 3.
  run2->Release();
  EXPECT_EQ(woken, std::vector<int>{1});
  EXPECT_FALSE(run3->TryAcquire());  // The free slot is run 1's.
  EXPECT_TRUE(run1->TryAcquire());
  run1->Release();
  EXPECT_EQ(woken, (std::vector<int>{1, 3}));
  EXPECT_TRUE(run3->TryAcquire());
}

TEST(SharedSlotsTest, ARunPreparingHoldsItsPlace) {
  SharedSlots shared(1);
  auto run1 = shared.ForRun(1, [] {});  // Dispatched first, still preparing.
  auto run2 = shared.ForRun(2, [] {});
  EXPECT_FALSE(run2->TryAcquire());  // The slot is free, but run 1 comes first.
  EXPECT_TRUE(run1->TryAcquire());
  run1->Release();
  EXPECT_TRUE(run2->TryAcquire());
}

TEST(SharedSlotsTest, AFinishedRunStopsBlockingOthers) {
  SharedSlots shared(2);
  std::vector<int> woken;
  auto run2 = shared.ForRun(2, [&] { woken.push_back(2); });
  auto run3 = shared.ForRun(3, [&] { woken.push_back(3); });
  ASSERT_TRUE(run2->TryAcquire());
  ASSERT_TRUE(run3->TryAcquire());
  auto run1 = shared.ForRun(1, [&] { woken.push_back(1); });
  EXPECT_FALSE(run1->TryAcquire());
  run1.reset();  // Run 1 is cancelled while it waits.
  run2->Release();
  EXPECT_TRUE(woken.empty());  // Nobody else waits.
  EXPECT_TRUE(run3->TryAcquire());
  EXPECT_EQ(shared.in_use(), 2);
}

}  // namespace
}  // namespace tauon::server
