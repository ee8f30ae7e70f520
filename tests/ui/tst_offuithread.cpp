// The UI's one helper for background work (ui/views/offuithread.h): results reach the owner's thread, never an owner
// that is gone, and a superseded job's result is dropped.
#include "views/offuithread.h"

#include <QtTest>

#include <QSemaphore>
#include <QThread>

#include <atomic>
#include <memory>

using namespace trainyard;

class TestOffUiThread : public QObject {
    Q_OBJECT
private slots:
    void resultReachesTheOwnersThread()
    {
        QObject owner;
        QThread *workThread = nullptr;
        QThread *doneThread = nullptr;
        int result = 0;
        QFuture<int> future = runOffUiThread(
            &owner,
            [&workThread] {
                workThread = QThread::currentThread();
                return 42;
            },
            [&](int value) {
                doneThread = QThread::currentThread();
                result = value;
            });
        QTRY_COMPARE(result, 42);
        QCOMPARE(future.result(), 42);
        QCOMPARE(doneThread, owner.thread());
        QVERIFY(workThread != owner.thread()); // the work ran on the pool, not here
    }

    void voidWorkCallsDone()
    {
        QObject owner;
        std::atomic<bool> worked = false;
        bool done = false;
        runOffUiThread(
            &owner, [&worked] { worked = true; }, [&done] { done = true; });
        QTRY_VERIFY(done);
        QVERIFY(worked);
    }

    void noResultForAnOwnerThatIsGone()
    {
        auto owner = std::make_unique<QObject>();
        auto release = std::make_shared<QSemaphore>();
        bool called = false;
        QFuture<int> future = runOffUiThread(
            owner.get(),
            [release] {
                release->acquire(); // still running when the owner goes
                return 1;
            },
            [&called](int) { called = true; });
        owner.reset();
        release->release();
        future.waitForFinished();
        QTest::qWait(50); // any queued delivery would have run by now
        QCoreApplication::processEvents();
        QVERIFY(!called);
    }

    void supersededResultIsDropped()
    {
        QObject owner;
        LatestOnly latest;
        auto releaseFirst = std::make_shared<QSemaphore>();
        QList<int> delivered;
        QFuture<int> first = runOffUiThread(
            &owner,
            [releaseFirst] {
                releaseFirst->acquire();
                return 1;
            },
            [&delivered](int value) { delivered << value; }, &latest);
        QFuture<int> second = runOffUiThread(
            &owner, [] { return 2; }, [&delivered](int value) { delivered << value; }, &latest);
        second.waitForFinished();
        QTRY_COMPARE(delivered, QList<int>{2});
        releaseFirst->release(); // the older job ends after the newer one: its result must not overwrite it
        first.waitForFinished();
        QTest::qWait(50);
        QCoreApplication::processEvents();
        QCOMPARE(delivered, QList<int>{2});
        QCOMPARE(first.result(), 1); // it did run; only its delivery was dropped
    }

    void jobsWithoutLatestOnlyAreAllDelivered()
    {
        QObject owner;
        QList<int> delivered;
        for (int i = 0; i < 5; ++i)
            runOffUiThread(
                &owner, [i] { return i; }, [&delivered](int value) { delivered << value; });
        QTRY_COMPARE(delivered.size(), 5);
        std::sort(delivered.begin(), delivered.end());
        QCOMPARE(delivered, (QList<int>{0, 1, 2, 3, 4}));
    }

    void runInBackgroundRuns()
    {
        auto ran = std::make_shared<std::atomic<bool>>(false);
        runInBackground([ran] { *ran = true; });
        QTRY_VERIFY(*ran);
    }
};

QTEST_GUILESS_MAIN(TestOffUiThread)
#include "tst_offuithread.moc"
