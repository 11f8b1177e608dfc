extension NDArray {
    /// Sum over `axes`, keeping them as size-1 axes (the result has the same rank).
    /// Each worker owns a range of the outputs (or, when the last axis is
    /// kept, of that axis) and adds what lands there in the order a single
    /// thread would: the result does not depend on the thread count.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func sum(axes: [Int]) -> NDArray {
        let axesSet = Set(axes.map { Shape.axis($0, rank: rank) })
        let outShape = shape.enumerated().map { axesSet.contains($0.offset) ? 1 : $0.element }
        if axesSet.isEmpty { return self }
        var out = [S](repeating: 0, count: Shape.count(outShape))
        if data.isEmpty { return NDArray(shape: outShape, data: out) }
        var so = Shape.strides(outShape)
        for a in axesSet { so[a] = 0 }
        let (rows, strides) = Shape.coalesced(shape, [Shape.strides(shape), so])
        let n = rows.last!
        data.withUnsafeBufferPointer { a in
            out.withUnsafeMutableBufferPointer { o in
                let (ap, op) = (SharedPointer(a.baseAddress!), SharedPointer(o.baseAddress!))
                if strides[1].last! == 0 {
                    // The last axis is reduced: a row's sum goes to one output.
                    parallelRanges(o.count, itemSize: a.count / o.count) { outputs in
                        forEachRow(shape: rows, strides: strides) { off in
                            if outputs.contains(off[1]) { op.base[off[1]] += rowSum(ap.base + off[0], n) }
                        }
                    }
                } else {
                    parallelRanges(n, itemSize: a.count / n) { columns in
                        forEachRow(shape: rows, strides: strides) { off in
                            for j in columns { op.base[off[1] + j] += ap.base[off[0] + j] }
                        }
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Sum of all elements.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func sumAll() -> S { data.reduce(0, +) }

    /// Maximum along `axis`, kept as a size-1 axis (used to stabilise log-softmax).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func max(axis: Int) -> NDArray {
        let ax = Shape.axis(axis, rank: rank)
        let outer = Shape.count(Array(shape[..<ax])), length = shape[ax]
        let inner = Shape.count(Array(shape[(ax + 1)...]))
        var outShape = shape
        outShape[ax] = 1
        var out = [S](repeating: -.infinity, count: outer * inner)
        data.withUnsafeBufferPointer { a in
            for o in 0..<outer {
                for l in 0..<length {
                    let base = (o * length + l) * inner
                    for i in 0..<inner where a[base + i] > out[o * inner + i] {
                        out[o * inner + i] = a[base + i]
                    }
                }
            }
        }
        return NDArray(shape: outShape, data: out)
    }

    /// Index of the largest element of each row of a [rows, columns] array
    /// (first one on ties), e.g. predicted classes from logits.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public func argmaxRows() -> [Int] {
        require(rank == 2, "argmaxRows needs a rank-2 array, got shape \(shape)")
        let columns = shape[1]
        return (0..<shape[0]).map { r in
            var best = 0
            for c in 1..<Swift.max(columns, 1) where data[r * columns + c] > data[r * columns + best] {
                best = c
            }
            return best
        }
    }

    /// One-hot rows: shape [labels.count, classes], 1 at each row's label.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func oneHot(_ labels: [Int], classes: Int) -> NDArray {
        var out = NDArray(zeros: [labels.count, classes])
        for (row, label) in labels.enumerated() {
            require(label >= 0 && label < classes, "label \(label) outside 0..<\(classes)")
            out.data[row * classes + label] = 1
        }
        return out
    }
}

/// Σ row[0..<n] in eight interleaved partial sums: independent additions
/// the CPU overlaps (one running sum waits for each addition in turn).
@inline(__always)
func rowSum<S: TensorScalar>(_ row: UnsafePointer<S>, _ n: Int) -> S {
    var partial = (S(0), S(0), S(0), S(0), S(0), S(0), S(0), S(0))
    var j = 0
    while j + 8 <= n {
        partial.0 += row[j]; partial.1 += row[j + 1]; partial.2 += row[j + 2]; partial.3 += row[j + 3]
        partial.4 += row[j + 4]; partial.5 += row[j + 5]; partial.6 += row[j + 6]; partial.7 += row[j + 7]
        j += 8
    }
    while j < n { partial.0 += row[j]; j += 1 }
    return ((partial.0 + partial.1) + (partial.2 + partial.3)) + ((partial.4 + partial.5) + (partial.6 + partial.7))
}
