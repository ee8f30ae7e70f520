// The charts' arithmetic, without a widget: tick steps, tick labels and a group's line against hand-computed values.
#include "views/chartmath.h"

#include <QtTest>

#include <QSet>

#include <cmath>

using namespace trainyard;
using namespace trainyard::chartmath;

class TestChartMath : public QObject {
    Q_OBJECT
private slots:
    void niceStepIsRound_data()
    {
        QTest::addColumn<double>("span");
        QTest::addColumn<int>("ticks");
        QTest::addColumn<double>("step");
        QTest::newRow("0..199 in 4") << 199.0 << 4 << 50.0; // not 49.75
        QTest::newRow("0..1 in 5") << 1.0 << 5 << 0.2;
        QTest::newRow("0..1 in 4") << 1.0 << 4 << 0.25;
        QTest::newRow("40480 in 5") << 40480.0 << 5 << 10000.0;
        QTest::newRow("3e-4 in 5") << 3e-4 << 5 << 1e-4;
        QTest::newRow("7 in 2") << 7.0 << 2 << 5.0;
        QTest::newRow("exact decade") << 100.0 << 10 << 10.0;
        QTest::newRow("empty span") << 0.0 << 5 << 1.0;
        QTest::newRow("negative span") << -3.0 << 5 << 1.0;
        QTest::newRow("NaN span") << double(NAN) << 5 << 1.0;
    }
    void niceStepIsRound()
    {
        QFETCH(double, span);
        QFETCH(int, ticks);
        QFETCH(double, step);
        QVERIFY2(std::abs(niceStep(span, ticks) - step) <= step * 1e-12,
                 qPrintable(QStringLiteral("niceStep(%1, %2) = %3").arg(span).arg(ticks).arg(niceStep(span, ticks))));
    }

    void niceStepGivesAboutTheTicksAsked()
    {
        // Never more ticks than asked, and never fewer than 40% of them (the steps 1, 2, 2.5, 5 are at most 2.5 apart).
        for (double span = 1e-6; span < 1e9; span *= 1.37) {
            for (int ticks : {2, 4, 5, 10}) {
                const double step = niceStep(span, ticks);
                QVERIFY(span / step <= ticks + 1e-9);
                QVERIFY(span / step >= ticks * 0.4 - 1e-9);
            }
        }
    }

    void formatNumberUsesSiSuffixes_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << "0";
        QTest::newRow("small") << 0.00015 << "0.00015";
        QTest::newRow("four digits") << 1234.5678 << "1235";
        QTest::newRow("below 10k") << 9999.0 << "9999";
        QTest::newRow("10k") << 10000.0 << "10k";
        QTest::newRow("40480") << 40480.0 << "40.48k";
        QTest::newRow("negative k") << -25000.0 << "-25k";
        QTest::newRow("million") << 3200000.0 << "3.2M";
        QTest::newRow("billion") << 7.5e9 << "7.5G";
    }
    void formatNumberUsesSiSuffixes()
    {
        QFETCH(double, value);
        QFETCH(QString, text);
        QCOMPARE(formatNumber(value), text);
    }

    void formatTickDistinguishesNeighbours_data()
    {
        QTest::addColumn<double>("value");
        QTest::addColumn<double>("step");
        QTest::addColumn<QString>("text");
        QTest::newRow("quarter") << 0.5 << 0.25 << "0.50";
        QTest::newRow("whole") << 150.0 << 50.0 << "150";
        QTest::newRow("zero") << 1e-12 << 0.1 << "0";
        QTest::newRow("k") << 12500.0 << 2500.0 << "12.5k";
        QTest::newRow("M") << 3e6 << 1e6 << "3M";
        QTest::newRow("small step") << 0.00015 << 0.00005 << "1.5e-04";
        QTest::newRow("huge") << 2e15 << 1e15 << "2e+15";
        QTest::newRow("negative") << -0.75 << 0.25 << "-0.75";
    }
    void formatTickDistinguishesNeighbours()
    {
        QFETCH(double, value);
        QFETCH(double, step);
        QFETCH(QString, text);
        QCOMPARE(formatTick(value, step), text);
    }

    void tickLabelsNeverRepeat()
    {
        // Over ranges from 1e-7 to 1e12 wide, offset or not (a loss near 1000.0003): the labels of an axis's ticks
        // are all different, with the ticks where niceStep puts them.
        for (double span = 1e-7; span < 1e12; span *= 3.7) {
            for (double offset : {0.0, 1000.0 * span, -0.3 * span, 1e6}) {
                const double lo = offset, hi = offset + span;
                const double step = niceStep(hi - lo, 5);
                QStringList labels;
                for (double t = std::ceil(lo / step) * step; t <= hi; t += step)
                    labels << formatTick(t, step);
                const QSet<QString> distinct(labels.cbegin(), labels.cend());
                QVERIFY2(distinct.size() == labels.size(),
                         qPrintable(QStringLiteral("%1..%2: %3").arg(lo).arg(hi).arg(labels.join(QLatin1Char(' ')))));
            }
        }
    }

    void decimalsWriteTheStepExactly()
    {
        QCOMPARE(decimalsFor(10), 0);
        QCOMPARE(decimalsFor(5), 0);
        QCOMPARE(decimalsFor(0.5), 1);
        QCOMPARE(decimalsFor(0.25), 2);
        QCOMPARE(decimalsFor(2.5e-3), 4);
    }

    void formatElapsedReadsAsTime_data()
    {
        QTest::addColumn<double>("ms");
        QTest::addColumn<QString>("text");
        QTest::newRow("zero") << 0.0 << "0s";
        QTest::newRow("rounded") << 44600.0 << "45s";
        QTest::newRow("minutes") << 725000.0 << "12m05s";
        QTest::newRow("hours") << 3.0 * 3600000 + 7 * 60000 << "3h07m";
        QTest::newRow("before start") << -90000.0 << "-1m30s";
    }
    void formatElapsedReadsAsTime()
    {
        QFETCH(double, ms);
        QFETCH(QString, text);
        QCOMPARE(formatElapsed(ms), text);
    }

    void metricSectionsByPrefix()
    {
        QCOMPARE(metricSections(), (QStringList{"train/", "eval/", "perf/", "", "sys/"}));
        QCOMPARE(metricSectionOf(QStringLiteral("train/loss")), QStringLiteral("train/"));
        QCOMPARE(metricSectionOf(QStringLiteral("eval/acc/top1")), QStringLiteral("eval/"));
        QCOMPARE(metricSectionOf(QStringLiteral("perf/step_s")), QStringLiteral("perf/"));
        QCOMPARE(metricSectionOf(QStringLiteral("sys/rank1/rss_mib")), QStringLiteral("sys/"));
        QCOMPARE(metricSectionOf(QStringLiteral("loss")), QString());
        QCOMPARE(metricSectionOf(QStringLiteral("trainer/loss")), QString()); // a prefix is a whole path component
        QCOMPARE(metricSectionOf(QStringLiteral("val/loss")), QString());
    }

    void groupLineIsTheMeanOfMemberMeans()
    {
        // Two members over x in [0, 100), 4 columns of 25. Member A has two buckets in column 0 (means 1 and 3: its
        // mean there is (2 + 6) / (2 + 2) = 2), member B one (mean 10): the group's value is (2 + 10) / 2 = 6, not the
        // mean of all points. The band is the lowest min and highest max of those buckets.
        const std::vector<PlacedBucket> a = {{5, 2, 2, 0.5, 1.5}, {15, 6, 2, 2, 4}, {60, 4, 1, 4, 4}};
        const std::vector<PlacedBucket> b = {{10, 30, 3, 9, 11}, {80, 0, 0, 0, 0} /* no finite value */};
        const auto columns = aggregateGroup({a, b}, 0, 100, 4);
        QCOMPARE(columns.size(), std::size_t(4));
        QCOMPARE(columns[0].members, 2);
        QCOMPARE(columns[0].mean(), 6.0);
        QCOMPARE(columns[0].lo, 0.5);
        QCOMPARE(columns[0].hi, 11.0);
        QCOMPARE(columns[1].members, 0); // nobody there
        QCOMPARE(columns[2].members, 1);
        QCOMPARE(columns[2].mean(), 4.0);
        QCOMPARE(columns[3].members, 0); // B's bucket there holds no finite value
    }

    void groupLineKeepsToTheRange()
    {
        // Buckets outside [x0, x1] are left out; one at x1 falls in the last column, not past it.
        const std::vector<PlacedBucket> member = {
            {-1, 100, 1, 100, 100}, {50, 5, 1, 5, 5}, {100, 7, 1, 7, 7}, {101, 100, 1, 100, 100}};
        const auto columns = aggregateGroup({member}, 0, 100, 2);
        QCOMPARE(columns[0].members, 0);
        QCOMPARE(columns[1].members, 1);
        QCOMPARE(columns[1].mean(), 6.0); // (5 + 7) / 2
        QCOMPARE(columns[1].lo, 5.0);
        QCOMPARE(columns[1].hi, 7.0);
    }

    void groupLineOfNoMembersIsEmpty()
    {
        const auto columns = aggregateGroup({}, 0, 10, 3);
        QCOMPARE(columns.size(), std::size_t(3));
        for (const GroupColumn &column : columns)
            QCOMPARE(column.members, 0);
    }
};

QTEST_GUILESS_MAIN(TestChartMath)
#include "tst_chartmath.moc"
