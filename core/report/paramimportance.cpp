// Parameter importance: Spearman's rho, and permutation importance from a random forest of CART regression trees,
// as Breiman (2001, "Random Forests", Machine Learning 45) defines both the forest and its out-of-bag permutation
// measure. Everything is seeded, so the same runs give the same numbers.
#include "report/paramimportance.h"

#include <QSet>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

namespace trainyard {

namespace {

// Ranks 1..n, ties sharing their mean rank.
std::vector<double> ranks(const QList<double> &values)
{
    std::vector<std::size_t> order(std::size_t(values.size()));
    std::iota(order.begin(), order.end(), std::size_t(0));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
    std::vector<double> result(order.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]])
            ++j;
        const double mean = (double(i) + double(j)) / 2.0 + 1.0;
        for (std::size_t k = i; k <= j; ++k)
            result[order[k]] = mean;
        i = j + 1;
    }
    return result;
}

// The forest's view of the runs: one column per param, numbers or choice codes.
struct Table {
    std::vector<std::vector<double>> columns; // [param][run]
    std::vector<bool> categorical;
    std::vector<int> categories; // per categorical param: how many values
    std::vector<double> y;
};

struct Node {
    int feature = -1; // -1: a leaf
    double threshold = 0;
    std::vector<char> leftCategories; // categorical split: which values go left
    double value = 0;
    int left = -1, right = -1;
};

class RegressionTree {
public:
    RegressionTree(const Table &table, int minLeaf, int tries, std::mt19937_64 &random)
        : m_table(table), m_minLeaf(minLeaf), m_tries(tries), m_random(random)
    { }

    void grow(std::vector<int> rows) { build(rows); }

    double predict(int row, int permutedFeature = -1, double permutedValue = 0) const
    {
        int at = 0;
        while (m_nodes[std::size_t(at)].feature >= 0) {
            const Node &node = m_nodes[std::size_t(at)];
            const double x = node.feature == permutedFeature
                ? permutedValue
                : m_table.columns[std::size_t(node.feature)][std::size_t(row)];
            const bool left = m_table.categorical[std::size_t(node.feature)] ? node.leftCategories[std::size_t(x)] != 0
                                                                             : x <= node.threshold;
            at = left ? node.left : node.right;
        }
        return m_nodes[std::size_t(at)].value;
    }

private:
    struct Split {
        double gain = 0;
        int feature = -1;
        double threshold = 0;
        std::vector<char> leftCategories;
    };

    int build(std::vector<int> &rows)
    {
        const int index = int(m_nodes.size());
        m_nodes.emplace_back();
        double sum = 0;
        for (int row : rows)
            sum += m_table.y[std::size_t(row)];
        m_nodes.back().value = sum / double(rows.size());
        if (int(rows.size()) < 2 * m_minLeaf)
            return index;
        const Split split = bestSplit(rows);
        if (split.feature < 0)
            return index;
        std::vector<int> left, right;
        for (int row : rows) {
            const double x = m_table.columns[std::size_t(split.feature)][std::size_t(row)];
            const bool goesLeft = m_table.categorical[std::size_t(split.feature)]
                ? split.leftCategories[std::size_t(x)] != 0
                : x <= split.threshold;
            (goesLeft ? left : right).push_back(row);
        }
        rows.clear();
        rows.shrink_to_fit();
        m_nodes[std::size_t(index)].feature = split.feature;
        m_nodes[std::size_t(index)].threshold = split.threshold;
        m_nodes[std::size_t(index)].leftCategories = split.leftCategories;
        const int leftChild = build(left);
        const int rightChild = build(right);
        m_nodes[std::size_t(index)].left = leftChild;
        m_nodes[std::size_t(index)].right = rightChild;
        return index;
    }

    // The split of `rows` with the largest drop in squared error among `m_tries` params drawn at random.
    Split bestSplit(const std::vector<int> &rows)
    {
        const int features = int(m_table.columns.size());
        std::vector<int> candidates(static_cast<std::size_t>(features));
        std::iota(candidates.begin(), candidates.end(), 0);
        std::shuffle(candidates.begin(), candidates.end(), m_random);
        candidates.resize(std::size_t(std::min(m_tries, features)));
        Split best;
        double total = 0, totalSquares = 0;
        for (int row : rows) {
            total += m_table.y[std::size_t(row)];
            totalSquares += m_table.y[std::size_t(row)] * m_table.y[std::size_t(row)];
        }
        const double n = double(rows.size());
        const double parentError = totalSquares - total * total / n;
        if (parentError <= 1e-12 * std::max(1.0, totalSquares))
            return best; // every run here has the same metric
        for (int feature : candidates) {
            const std::vector<double> &column = m_table.columns[std::size_t(feature)];
            const bool categorical = m_table.categorical[std::size_t(feature)];
            // The order to scan: by value, or, for a choice, by its values' mean metric in this node (Breiman et al.
            // 1984: the best binary split of a choice for regression is among these orderings).
            std::vector<double> key(rows.size());
            std::vector<double> categoryMean;
            if (categorical) {
                const int count = m_table.categories[std::size_t(feature)];
                std::vector<double> sums(std::size_t(count), 0), counts(std::size_t(count), 0);
                for (int row : rows) {
                    sums[std::size_t(column[std::size_t(row)])] += m_table.y[std::size_t(row)];
                    counts[std::size_t(column[std::size_t(row)])] += 1;
                }
                categoryMean.resize(std::size_t(count));
                for (int c = 0; c < count; ++c)
                    categoryMean[std::size_t(c)] =
                        counts[std::size_t(c)] > 0 ? sums[std::size_t(c)] / counts[std::size_t(c)] : 0;
                for (std::size_t i = 0; i < rows.size(); ++i)
                    key[i] = categoryMean[std::size_t(column[std::size_t(rows[i])])];
            } else {
                for (std::size_t i = 0; i < rows.size(); ++i)
                    key[i] = column[std::size_t(rows[i])];
            }
            std::vector<std::size_t> order(rows.size());
            std::iota(order.begin(), order.end(), std::size_t(0));
            std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key[a] < key[b]; });
            double leftSum = 0, leftSquares = 0;
            for (std::size_t i = 0; i + 1 < order.size(); ++i) {
                const double y = m_table.y[std::size_t(rows[order[i]])];
                leftSum += y;
                leftSquares += y * y;
                const double leftCount = double(i + 1), rightCount = n - leftCount;
                if (key[order[i]] == key[order[i + 1]] || leftCount < m_minLeaf || rightCount < m_minLeaf)
                    continue;
                const double rightSum = total - leftSum, rightSquares = totalSquares - leftSquares;
                const double error =
                    (leftSquares - leftSum * leftSum / leftCount) + (rightSquares - rightSum * rightSum / rightCount);
                const double gain = parentError - error;
                if (gain <= best.gain)
                    continue;
                best.gain = gain;
                best.feature = feature;
                const double cut = (key[order[i]] + key[order[i + 1]]) / 2;
                if (categorical) {
                    // Values at or below the cut go left; a value absent here goes with the larger side.
                    const int count = m_table.categories[std::size_t(feature)];
                    best.leftCategories.assign(std::size_t(count), leftCount >= rightCount ? 1 : 0);
                    std::vector<char> seen(std::size_t(count), 0);
                    for (int row : rows)
                        seen[std::size_t(column[std::size_t(row)])] = 1;
                    for (int c = 0; c < count; ++c)
                        if (seen[std::size_t(c)])
                            best.leftCategories[std::size_t(c)] = categoryMean[std::size_t(c)] <= cut ? 1 : 0;
                } else {
                    best.threshold = cut;
                    best.leftCategories.clear();
                }
            }
        }
        return best;
    }

    const Table &m_table;
    int m_minLeaf;
    int m_tries;
    std::mt19937_64 &m_random;
    std::vector<Node> m_nodes;
};

bool readsAsNumber(const QString &text, double &value)
{
    bool ok = false;
    value = text.trimmed().toDouble(&ok);
    return ok && std::isfinite(value);
}

} // namespace

std::optional<double> spearmanCorrelation(const QList<double> &x, const QList<double> &y)
{
    if (x.size() != y.size() || x.size() < 3)
        return std::nullopt;
    const std::vector<double> rx = ranks(x), ry = ranks(y);
    const double n = double(rx.size());
    const double mean = (n + 1) / 2;
    double sxy = 0, sxx = 0, syy = 0;
    for (std::size_t i = 0; i < rx.size(); ++i) {
        sxy += (rx[i] - mean) * (ry[i] - mean);
        sxx += (rx[i] - mean) * (rx[i] - mean);
        syy += (ry[i] - mean) * (ry[i] - mean);
    }
    if (sxx <= 0 || syy <= 0)
        return std::nullopt;
    return sxy / std::sqrt(sxx * syy);
}

ImportanceReport paramImportance(const QList<ImportanceRun> &runs, bool lowerIsBetter, const ForestSettings &settings)
{
    ImportanceReport report;
    QList<const ImportanceRun *> used;
    for (const ImportanceRun &run : runs) {
        if (!std::isfinite(run.metric))
            report.leftOut << QStringLiteral("%1: the metric is %2")
                                  .arg(run.runId,
                                       std::isnan(run.metric) ? QStringLiteral("NaN") : QStringLiteral("infinite"));
        else
            used << &run;
    }
    report.runsUsed = int(used.size());
    report.chanceCorrelation = used.size() > 1 ? 1.96 / std::sqrt(double(used.size() - 1)) : 1.0;
    const double clear = std::max(kClearCorrelation, report.chanceCorrelation);
    // The params any used run has, in name order; a run without one has "(unset)" for it.
    QStringList names;
    for (const ImportanceRun *run : used)
        for (auto it = run->params.cbegin(); it != run->params.cend(); ++it)
            if (!names.contains(it.key()))
                names << it.key();
    names.sort();
    const QString unset = QStringLiteral("(unset)");

    Table table;
    for (const ImportanceRun *run : used)
        table.y.push_back(run->metric);
    QList<ParamImportance> varied;
    for (const QString &name : names) {
        QStringList values;
        for (const ImportanceRun *run : used)
            values << run->params.value(name, unset);
        QStringList distinct = values;
        distinct.removeDuplicates();
        if (distinct.size() < 2) {
            report.notVaried << name;
            continue;
        }
        ParamImportance param;
        param.param = name;
        param.distinctValues = int(distinct.size());
        QList<double> numbers;
        for (const QString &value : values) {
            double number = 0;
            if (!readsAsNumber(value, number)) {
                param.numeric = false;
                break;
            }
            numbers << number;
        }
        std::vector<double> column;
        if (param.numeric) {
            column.assign(numbers.cbegin(), numbers.cend());
            param.spearman = spearmanCorrelation(numbers, QList<double>(table.y.cbegin(), table.y.cend()));
            if (param.spearman && std::abs(*param.spearman) >= clear)
                param.better =
                    (*param.spearman < 0) == lowerIsBetter ? QStringLiteral("higher") : QStringLiteral("lower");
        } else {
            distinct.sort();
            for (const QString &value : values)
                column.push_back(double(distinct.indexOf(value)));
            // The value with the best mean metric.
            double bestMean = 0;
            for (const QString &candidate : distinct) {
                double sum = 0;
                int count = 0;
                for (qsizetype i = 0; i < values.size(); ++i)
                    if (values[i] == candidate)
                        sum += table.y[std::size_t(i)], ++count;
                const double mean = sum / count;
                if (param.better.isEmpty() || (lowerIsBetter ? mean < bestMean : mean > bestMean)) {
                    bestMean = mean;
                    param.better = candidate;
                }
            }
        }
        table.columns.push_back(std::move(column));
        table.categorical.push_back(!param.numeric);
        table.categories.push_back(param.numeric ? 0 : int(distinct.size()));
        varied << param;
    }
    if (report.runsUsed < kMinImportanceRuns) {
        report.notEnoughData = QStringLiteral("%1 finished run%2 with the metric; %3 are needed to say anything")
                                   .arg(report.runsUsed)
                                   .arg(report.runsUsed == 1 ? "" : "s")
                                   .arg(kMinImportanceRuns);
        return report;
    }
    if (varied.isEmpty()) {
        report.params = varied;
        return report;
    }

    // The forest, and each param's out-of-bag permutation importance.
    const int n = report.runsUsed;
    const int features = int(varied.size());
    const int tries = std::max(1, features / 3);
    std::mt19937_64 random(settings.seed);
    double mean = 0;
    for (double y : table.y)
        mean += y;
    mean /= n;
    double variance = 0;
    for (double y : table.y)
        variance += (y - mean) * (y - mean);
    variance /= n;
    std::vector<double> increase(std::size_t(features), 0);
    std::vector<double> oobSum(std::size_t(n), 0);
    std::vector<int> oobCount(std::size_t(n), 0);
    int treesWithOob = 0;
    std::uniform_int_distribution<int> draw(0, n - 1);
    for (int t = 0; t < settings.trees; ++t) {
        std::vector<int> sample(static_cast<std::size_t>(n));
        std::vector<char> inBag(std::size_t(n), 0);
        for (int &row : sample) {
            row = draw(random);
            inBag[std::size_t(row)] = 1;
        }
        RegressionTree tree(table, settings.minLeafRuns, tries, random);
        tree.grow(sample);
        std::vector<int> oob;
        for (int row = 0; row < n; ++row)
            if (!inBag[std::size_t(row)])
                oob.push_back(row);
        if (oob.empty())
            continue;
        ++treesWithOob;
        double error = 0;
        for (int row : oob) {
            const double predicted = tree.predict(row);
            oobSum[std::size_t(row)] += predicted;
            ++oobCount[std::size_t(row)];
            error += (table.y[std::size_t(row)] - predicted) * (table.y[std::size_t(row)] - predicted);
        }
        error /= double(oob.size());
        for (int feature = 0; feature < features; ++feature) {
            std::vector<double> shuffled;
            for (int row : oob)
                shuffled.push_back(table.columns[std::size_t(feature)][std::size_t(row)]);
            std::shuffle(shuffled.begin(), shuffled.end(), random);
            double permutedError = 0;
            for (std::size_t i = 0; i < oob.size(); ++i) {
                const double predicted = tree.predict(oob[i], feature, shuffled[i]);
                permutedError +=
                    (table.y[std::size_t(oob[i])] - predicted) * (table.y[std::size_t(oob[i])] - predicted);
            }
            increase[std::size_t(feature)] += permutedError / double(oob.size()) - error;
        }
    }
    report.trees = settings.trees;
    double residual = 0, spread = 0;
    for (int row = 0; row < n; ++row) {
        if (oobCount[std::size_t(row)] == 0)
            continue;
        const double predicted = oobSum[std::size_t(row)] / oobCount[std::size_t(row)];
        residual += (table.y[std::size_t(row)] - predicted) * (table.y[std::size_t(row)] - predicted);
        spread += (table.y[std::size_t(row)] - mean) * (table.y[std::size_t(row)] - mean);
    }
    if (spread > 0)
        report.forestR2 = 1 - residual / spread;
    double positive = 0;
    for (int feature = 0; feature < features; ++feature) {
        ParamImportance &param = varied[feature];
        param.permutation =
            treesWithOob > 0 && variance > 0 ? increase[std::size_t(feature)] / treesWithOob / variance : 0;
        positive += std::max(0.0, param.permutation);
    }
    for (ParamImportance &param : varied)
        param.share = positive > 0 ? std::max(0.0, param.permutation) / positive : 0;
    std::stable_sort(varied.begin(), varied.end(),
                     [](const ParamImportance &a, const ParamImportance &b) { return a.permutation > b.permutation; });
    report.params = varied;
    return report;
}

} // namespace trainyard
